// The collector reads its own section: same errors as `vigie config check` for its keys, the agent's
// section passed through unread.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadVigieConfig } from '../../cli/config-file.ts';
import { loadCollectorConfig } from '../../collector/config-file.ts';
import { ConfigError } from '../../shared/config.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function configFile(content: unknown): string {
  dir = mkdtempSync(join(tmpdir(), 'vigie-collector-config-'));
  const file = join(dir, 'vigie.yaml');
  writeFileSync(file, stringify(content));
  return file;
}

const errorOf = (load: () => unknown): string => {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadCollectorConfig', () => {
  it("does not validate the agent's section", () => {
    const file = configFile({ agent: { nonsense: true }, collector: { pointsFile: 'points.lp' } });
    const { config } = loadCollectorConfig(file, {});
    expect(config.collector?.pointsFile).toBe('points.lp');
    expect(() => loadVigieConfig(file, {})).toThrow(/agent/);
  });

  it("says about the collector's keys what `vigie config check` says", () => {
    const file = configFile({ collector: { influx: { url: 42 } } });
    expect(errorOf(() => loadCollectorConfig(file, {}))).toBe(errorOf(() => loadVigieConfig(file, {})));
  });

  it('refuses a broker password over plaintext MQTT to another host, as `vigie config check` does', () => {
    const file = configFile({
      collector: { mqtt: { url: 'mqtt://broker.example:1883', username: 'c', password: 'p' } },
    });
    const message = errorOf(() => loadCollectorConfig(file, {}));
    expect(message).toMatch(/collector\.mqtt\.url: expected a TLS URL/);
    expect(message).toBe(errorOf(() => loadVigieConfig(file, {})));
  });
});
