// Start and stop real daemons for tests: each in its own temp dir, output kept in a log file
// whose tail is shown when the daemon fails to come up.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Debian package that brings each binary the tests run. */
export const BINARY_PACKAGES: Record<string, string> = {
  mosquitto: 'mosquitto',
  influxd: 'influxdb',
  snmpd: 'snmpd',
  ping: 'iputils-ping',
  ip: 'iproute2',
  tc: 'iproute2',
  alertmanager: 'prometheus-alertmanager',
  chromium: 'chromium',
  python3: 'python3',
};

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of a binary, or an error that names it and the command that installs it. */
export function requireBinary(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:${SEARCH_PATH.join(':')}` },
  });
  const path = found.stdout.trim();
  if (found.status === 0 && path) return path;
  const pkg = BINARY_PACKAGES[name] ?? name;
  throw new Error(
    `missing binary "${name}": install it with \`sudo scripts/install-deps\` (or \`apt-get install ${pkg}\`)`,
  );
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `vigie-${prefix}-`));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Thrown from a waitFor check to stop waiting at once (the process died, say). */
export class GiveUp extends Error {}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`,
  );
}

export interface DaemonSpec {
  name: string;
  binary: string;
  args: string[];
  dir: string;
  env?: NodeJS.ProcessEnv;
  /** Resolves true once the daemon answers. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

/** A running daemon that can be stopped, killed and started again on the same ports and data. */
export class Daemon {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  readonly logFile: string;

  constructor(private readonly spec: DaemonSpec) {
    this.logFile = join(spec.dir, `${spec.name}.log`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<this> {
    if (this.child) return this;
    const path = requireBinary(this.spec.binary);
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(path, this.spec.args, {
      cwd: this.spec.dir,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    let exitInfo = '';
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = `exited with ${signal ?? code}`;
        if (this.child === child) this.child = null;
        resolve();
      });
    });
    try {
      await waitFor(
        `${this.spec.name} to answer`,
        async () => {
          if (!this.child) throw new GiveUp(exitInfo || 'process ended');
          return this.spec.ready();
        },
        this.spec.readyTimeoutMs ?? 60_000,
      );
    } catch (err) {
      await this.stop();
      throw new Error(
        `${this.spec.name} did not start: ${(err as Error).message}\n--- ${this.logFile} ---\n${this.logTail()}`,
      );
    }
    return this;
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM, then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  /** kill -9: no clean shutdown, as a power cut would. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<this> {
    await this.stop();
    return this.start();
  }

  /** Stop and remove the temp dir. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.spec.dir, { recursive: true, force: true });
  }
}
