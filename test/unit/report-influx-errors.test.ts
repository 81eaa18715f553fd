// InfluxDB answers that mean "not now" (report/influx.ts transientInfluxError): a server stopping
// answered "query engine shutdown" with 200, which the API reported as a refused query (502, the
// InfluxQL in the message) instead of "unavailable, try again" (503 with Retry-After).
import { describe, expect, it } from 'vitest';
import { transientInfluxError } from '../../report/influx.ts';

describe('transient InfluxDB errors', () => {
  it.each([
    [200, 'query engine shutdown'],
    [200, 'query engine shut down'],
    [200, 'server is shutting down'],
    [200, 'timeout'],
    [500, 'internal error'],
    [502, '<html>Bad Gateway</html>'],
    [503, 'service unavailable'],
  ])('%i %j: not now', (status, message) => {
    expect(transientInfluxError(status, message)).toBe(true);
  });

  it.each([
    [200, 'error parsing query: found EOF, expected FROM at line 1, char 8'],
    [200, 'retention policy not found: long'],
    [400, 'invalid regular expression'],
    [401, 'authorization failed'],
    [403, 'user "reader" is not authorized to execute statement'],
  ])('%i %j: refused', (status, message) => {
    expect(transientInfluxError(status, message)).toBe(false);
  });
});
