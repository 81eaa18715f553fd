// The real agent CLI (`vigie agent --config FILE`) in its own process, measuring only itself once a
// second into its spool: what the delivery tests (broker outages, silent links, refusals) need.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const OFF = { enabled: false };

export interface AgentCliOptions {
  uai: string;
  id: string;
  /** The `agent.mqtt` section. */
  mqtt: Record<string, unknown>;
}

export interface AgentCli {
  configFile: string;
  logFile: string;
  /** Starts a process (again, after a kill) on the same config, spool and log. */
  start(): ChildProcess;
  log(): string;
  logTail(lines?: number): string;
  /** The spool's next sequence number: every batch below it was measured. */
  nextSeq(): number;
}

export function agentCli(dir: string, opts: AgentCliOptions): AgentCli {
  const configFile = join(dir, 'agent.yaml');
  const logFile = join(dir, 'agent.log');
  writeFileSync(
    configFile,
    JSON.stringify({
      agent: {
        uai: opts.uai,
        id: opts.id,
        mqtt: opts.mqtt,
        spool: { dir: join(dir, 'spool') },
        batchIntervalS: 1,
        probes: {
          self: { intervalS: 1, timeoutS: 1, jitter: 0 },
          ping: OFF,
          dns: OFF,
          http: OFF,
          wan: OFF,
          wifi: OFF,
          speedtest: OFF,
        },
      },
    }),
  );
  const log = () => readFileSync(logFile, 'utf8');
  return {
    configFile,
    logFile,
    start() {
      const child = spawn(process.execPath, [join(ROOT, 'bin/vigie.js'), 'agent', '--config', configFile], {
        cwd: ROOT,
        env: { ...process.env, VIGIE_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out = createWriteStream(logFile, { flags: 'a' });
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      return child;
    },
    log,
    logTail: (lines = 30) => log().split('\n').slice(-lines).join('\n'),
    nextSeq: () => JSON.parse(readFileSync(join(dir, 'spool', 'state.json'), 'utf8')).nextSeq as number,
  };
}

/** Resolves with the exit code once the process has ended (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}
