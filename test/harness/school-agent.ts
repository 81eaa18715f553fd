// The real agent in a school behind its router (createSchoolBehindRouter in netns.ts), and the broker
// it reaches across the WAN: for the tests that cut the school's internet link.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { Daemon, tempDir } from './daemon.ts';
import { type MosquittoHandle, startMosquitto } from './mosquitto.ts';
import type { SchoolBehindRouter } from './netns.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** A fresh object each time: the YAML writer would make repeated ones aliases. */
const off = () => ({ enabled: false });

/** Mosquitto on `port` of both the loopback (for the collector) and the host's end of the school's WAN. */
export function startWanBroker(net: SchoolBehindRouter, port: number): Promise<MosquittoHandle> {
  return startMosquitto({
    listener: false,
    readyPort: port,
    extraConfig: [
      `listener ${port} 127.0.0.1`,
      `listener ${port} ${net.wanHost}`,
      'allow_anonymous true',
    ].join('\n'),
  });
}

export interface SchoolAgentOptions {
  /** The school's UAI; the agent id is `box-1`. */
  uai: string;
  /** The broker's port on the host's end of the WAN (startWanBroker). */
  brokerPort: number;
  /** `agent.mqtt` beyond its url. */
  mqtt: Record<string, unknown>;
  /** Probes beyond ping and self (e.g. dns, http); dns and http are off unless given, wan, wifi, speedtest off. */
  probes?: Record<string, unknown>;
  /** Prefix of the agent's temporary folder (config, spool, log). */
  dirPrefix: string;
  env?: NodeJS.ProcessEnv;
}

export interface SchoolAgent {
  /** The agent process, run inside the school's namespace; not started. */
  daemon: Daemon;
  /** Its config file (YAML). */
  configFile: string;
  /** `ip` arguments that run `vigie agent --config FILE` inside the school's namespace, then `extra`. */
  args(...extra: string[]): string[];
}

/**
 * Writes the agent's config and makes its daemon: batches every 1 s, self every 5 s, pings every 5 s
 * (10 echoes 200 ms apart) to the router's LAN end as gateway and the host's WAN end as anchor.
 */
export function schoolAgent(net: SchoolBehindRouter, opts: SchoolAgentOptions): SchoolAgent {
  const dir = tempDir(opts.dirPrefix);
  const configFile = join(dir, 'agent.yaml');
  writeFileSync(
    configFile,
    stringify({
      agent: {
        uai: opts.uai,
        id: 'box-1',
        mqtt: { url: `mqtt://${net.wanHost}:${opts.brokerPort}`, ...opts.mqtt },
        spool: { dir: join(dir, 'spool') },
        batchIntervalS: 1,
        probes: {
          ping: {
            intervalS: 5,
            timeoutS: 4.5,
            jitter: 0,
            count: 10,
            echoIntervalMs: 200,
            echoTimeoutS: 1,
            targets: [
              { host: net.lanRouter, name: 'gateway', role: 'gateway' },
              { host: net.wanHost, name: 'anchor', role: 'anchor' },
            ],
          },
          self: { intervalS: 5, jitter: 0 },
          dns: off(),
          http: off(),
          ...opts.probes,
          wan: off(),
          wifi: off(),
          speedtest: off(),
        },
      },
    }),
  );
  const args = (...extra: string[]) => [
    'netns',
    'exec',
    net.nsSchool,
    process.execPath,
    join(ROOT, 'bin/vigie.js'),
    'agent',
    '--config',
    configFile,
    ...extra,
  ];
  const daemon = new Daemon({
    name: 'agent',
    binary: 'ip',
    args: args(),
    dir,
    ...(opts.env ? { env: opts.env } : {}),
    ready: async () => true,
  });
  return { daemon, configFile, args };
}
