// The box's agent never loads ICU: one Intl formatter (or toLocaleString, localeCompare...) pages in
// 2-8 MiB of ICU data for the process's life (a bare Node: 41 MiB, 51 with one Intl.DateTimeFormat
// with a timeZone), and the speed-test window's one had taken the agent from 1.50x to 1.88x a bare
// Node in bench/agent-footprint. The deployed bundle runs at its default schedule with every ICU
// entry point wrapped to report its first use, until it has published a batch.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const UAI = '0690001B';

// Loaded with --import before the bundle: reports the first call of each ICU-backed API with its stack.
const TRACE_ICU = `
const seen = new Set();
const note = (name) => {
  if (seen.has(name)) return;
  seen.add(name);
  process.stderr.write('ICU-USED ' + name + '\\n' + new Error().stack.split('\\n').slice(2, 8).join('\\n') + '\\n');
};
for (const k of Object.getOwnPropertyNames(Intl)) {
  const C = Intl[k];
  if (typeof C !== 'function') continue;
  Intl[k] = new Proxy(C, {
    construct: (t, a, n) => (note('Intl.' + k), Reflect.construct(t, a, n)),
    apply: (t, self, a) => (note('Intl.' + k), Reflect.apply(t, self, a)),
  });
}
for (const [proto, names, label] of [
  [Date.prototype, ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString'], 'Date'],
  [Number.prototype, ['toLocaleString'], 'Number'],
  [String.prototype, ['localeCompare', 'toLocaleUpperCase', 'toLocaleLowerCase'], 'String'],
  [Array.prototype, ['toLocaleString'], 'Array'],
]) {
  for (const n of names) {
    const f = proto[n];
    proto[n] = function (...a) { note(label + '.' + n); return f.apply(this, a); };
  }
}
`;

describe('agent bundle', () => {
  let broker: MosquittoHandle;
  let agent: ChildProcess | undefined;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    agent?.kill('SIGKILL');
    await broker?.daemon.dispose();
  });

  it('measures and publishes at its default schedule without touching ICU (no Intl, no locale methods)', async () => {
    const dir = tempDir('agent-no-icu');
    const bundle = join(dir, 'vigie-agent.mjs');
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-agent'), bundle], {
      stdio: 'pipe',
      timeout: 60_000,
    });
    const preload = join(dir, 'trace-icu.mjs');
    writeFileSync(preload, TRACE_ICU);
    const config = join(dir, 'agent.yaml');
    // The default schedule (every probe at its defaults, the speed test's school hours included),
    // batches every second so that the first comes quickly.
    writeFileSync(
      config,
      JSON.stringify({
        agent: {
          uai: UAI,
          id: 'no-icu',
          mqtt: { url: broker.url },
          spool: { dir: join(dir, 'spool') },
          batchIntervalS: 1,
        },
      }),
    );
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'agent-no-icu-test' });
    let batches = 0;
    sub.on('message', () => batches++);
    await sub.subscribeAsync(`vigie/v1/${UAI}/no-icu/metrics`, { qos: 1 });
    let stderr = '';
    agent = spawn(process.execPath, ['--import', preload, bundle, 'agent', '--config', config], {
      cwd: dir,
      env: { ...process.env, VIGIE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    agent.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      await waitFor(
        'a metrics batch from the bundled agent',
        async () => batches > 0 || agent!.exitCode !== null,
        60_000,
      );
      expect(agent.exitCode, stderr).toBeNull();
      expect(
        stderr
          .split('\n')
          .filter((l) => l.startsWith('ICU-USED'))
          .join('\n'),
        stderr,
      ).toBe('');
    } finally {
      await sub.endAsync();
    }
  });
});
