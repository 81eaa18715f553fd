// The pure parts of a Wi-Fi round: the gate that bounds checks in flight, the order APs are checked
// in, the echo command line, and the last look staying inside the scheduler's grace.
import { describe, expect, it } from 'vitest';
import { AP_ECHO, echoArgs } from '../../agent/probes/echo.ts';
import { createLimiter } from '../../agent/probes/util.ts';
import { checkOrder, ECHO_PARALLEL, LAST_LOOK_MS, SNMP_PARALLEL } from '../../agent/probes/wifi.ts';
import { ABORT_GRACE_MS } from '../../agent/scheduler.ts';

/** A promise settled from outside. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe('createLimiter', () => {
  it('never runs more than its limit, starts tasks in the order given, frees a slot on failure', async () => {
    const gate = createLimiter(2);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const tasks = Array.from({ length: 6 }, () => deferred<number>());
    const results = tasks.map((d, i) =>
      gate(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        try {
          return await d.promise;
        } finally {
          running--;
        }
      }).catch((e: Error) => e.message),
    );
    await ticks();
    expect(started).toEqual([0, 1]);
    tasks[1]!.reject(new Error('snmp timeout'));
    await ticks();
    expect(started).toEqual([0, 1, 2]);
    // A later caller queues behind those already waiting.
    const late = gate(async () => 'late');
    tasks[0]!.resolve(0);
    tasks[2]!.resolve(2);
    await ticks(10);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    for (const i of [3, 4, 5]) tasks[i]!.resolve(i);
    expect(await Promise.all(results)).toEqual([0, 'snmp timeout', 2, 3, 4, 5]);
    expect(await late).toBe('late');
    expect(most).toBe(2);
  });

  it('refuses a limit that is not a whole number of at least 1', () => {
    expect(() => createLimiter(0)).toThrow(/limit must be an integer ≥ 1, got 0/);
    expect(() => createLimiter(1.5)).toThrow(RangeError);
  });
});

describe('checkOrder', () => {
  it('checks the APs that answered at once first, then the unknown, then the slow ones, each in config order', () => {
    const fast = [false, undefined, true, false, true, undefined];
    expect(checkOrder(fast.length, (i) => fast[i])).toEqual([2, 4, 1, 5, 0, 3]);
  });

  it('keeps config order on the first round', () => {
    expect(checkOrder(4, () => undefined)).toEqual([0, 1, 2, 3]);
    expect(checkOrder(0, () => true)).toEqual([]);
  });
});

describe('the echo fallback', () => {
  it('stops at the first reply or at its deadline, numeric, host after --', () => {
    expect(echoArgs('192.0.2.21', AP_ECHO)).toEqual([
      '-n',
      '-q',
      '-c',
      '1',
      '-w',
      '2',
      '-i',
      '0.25',
      '--',
      '192.0.2.21',
    ]);
  });

  it('lets the last look end well inside the scheduler grace for a cut probe', () => {
    expect(LAST_LOOK_MS).toBeLessThanOrEqual(ABORT_GRACE_MS * 0.6);
  });

  it('fits 128 silent APs (the config maximum) in the default round with room to spare', () => {
    // Default wifi config: timeoutS 20, snmpTimeoutS 2 with one retry (agent/probes/config.ts).
    const silentSnmpS = 2 * 2;
    const snmpWaves = Math.ceil(128 / SNMP_PARALLEL);
    // One wave's echoes take no longer than the next SNMP wave: only the last wave's echoes add time.
    expect(Math.ceil(SNMP_PARALLEL / ECHO_PARALLEL) * AP_ECHO.deadlineS).toBeLessThanOrEqual(silentSnmpS);
    const lastWave = Math.min(128, SNMP_PARALLEL);
    const worstS = snmpWaves * silentSnmpS + Math.ceil(lastWave / ECHO_PARALLEL) * AP_ECHO.deadlineS;
    expect(worstS).toBeLessThanOrEqual(20 * 0.75);
  });
});
