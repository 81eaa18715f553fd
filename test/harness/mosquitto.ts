// A real Mosquitto on a free loopback port, persistence on, in its own temp dir.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Daemon, freePort, tempDir } from './daemon.ts';

export interface MosquittoOptions {
  port?: number;
  /** Lines appended to mosquitto.conf (listeners, TLS, ACL...). When it declares its own listener, set `listener: false`. */
  extraConfig?: string;
  listener?: boolean;
  /** Port the readiness check connects to, when the extra config moves the listener. */
  readyPort?: number;
}

export interface MosquittoHandle {
  daemon: Daemon;
  port: number;
  url: string;
  dir: string;
}

export function tcpAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoHandle> {
  const dir = tempDir('mosquitto');
  const port = opts.port ?? (await freePort());
  // As root, Mosquitto drops to the `mosquitto` user, which cannot write into our 0700 temp dir:
  // persistence would silently fail. Tests run as root in CI, so stay root there.
  const asRoot = process.getuid?.() === 0 && !/^user /m.test(opts.extraConfig ?? '');
  const conf = [
    ...(asRoot ? ['user root'] : []),
    'persistence true',
    `persistence_location ${dir}/`,
    'autosave_interval 1',
    'max_queued_messages 1000000',
    'max_inflight_messages 100',
    'persistent_client_expiration 1d',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
    ...(opts.listener === false ? [] : [`listener ${port} 127.0.0.1`, 'allow_anonymous true']),
    opts.extraConfig ?? '',
  ].join('\n');
  const confFile = join(dir, 'mosquitto.conf');
  writeFileSync(confFile, `${conf}\n`);
  const readyPort = opts.readyPort ?? port;
  const daemon = new Daemon({
    name: 'mosquitto',
    binary: 'mosquitto',
    args: ['-c', confFile],
    dir,
    ready: () => tcpAnswers(readyPort),
  });
  await daemon.start();
  return { daemon, port, url: `mqtt://127.0.0.1:${port}`, dir };
}
