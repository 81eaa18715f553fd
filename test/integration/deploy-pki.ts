// Helpers for the deploy tests: certificates made by deploy/make-pki.sh, the stack's mosquitto.conf
// with its container paths moved into a temp dir, and an enrolled pair of schools.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EnrollResult, enroll } from '../../deploy/enroll.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

export const REPO = new URL('../../', import.meta.url).pathname;
export const UAI_A = '0690001B';
export const UAI_B = '0380042P';

export const SCHOOLS_YAML = `schools:
  - { uai: "${UAI_A}", name: "École Saint-Exupéry", commune: Vienne, lat: 45.52, lon: 4.87, isp: Orange, contractedDownMbps: 100, contractedUpMbps: 20 }
  - { uai: "${UAI_B}", name: "École du Centre", commune: Vienne, lat: 45.52, lon: 4.87, isp: Free, contractedDownMbps: 8, contractedUpMbps: 1 }
`;

/** Runs the real make-pki.sh; the broker reads the key as its own unprivileged user, as in the container. */
export function makePki(dir: string, ...names: string[]): void {
  execFileSync('sh', [join(REPO, 'deploy/make-pki.sh'), dir, ...names], { stdio: 'pipe' });
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'server.key'), 0o644);
}

export function enrollSchools(dir: string, broker: string, ca: string, rotate: string[] = []): EnrollResult {
  const schools = join(dir, 'schools.yaml');
  writeFileSync(schools, SCHOOLS_YAML);
  return enroll({ schools, out: join(dir, 'enroll'), broker, ca, rotate });
}

/** Options the test harness already sets in its own preamble. */
const HARNESS_KEYS = new Set([
  'persistence',
  'persistence_location',
  'autosave_interval',
  'max_queued_messages',
  'max_inflight_messages',
  'persistent_client_expiration',
  'log_dest',
  'log_type',
]);

/** deploy/mosquitto/mosquitto.conf, unchanged but for file locations and ports. */
export function stackMosquittoConfig(opts: {
  enrollDir: string;
  pkiDir: string;
  tlsPort: number;
  healthPort: number;
}): string {
  const conf = readFileSync(join(REPO, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
  return conf
    .split('\n')
    .filter((line) => !HARNESS_KEYS.has(line.split(/\s+/)[0] ?? ''))
    .map((line) =>
      line
        .replace('/mosquitto/enroll/', `${join(opts.enrollDir, 'mosquitto')}/`)
        .replace('/mosquitto/certs/', `${opts.pkiDir}/`)
        .replace(/^listener 8883$/, `listener ${opts.tlsPort} 127.0.0.1`)
        .replace(/^listener 1883 127\.0\.0\.1$/, `listener ${opts.healthPort} 127.0.0.1`),
    )
    .join('\n');
}

/** collector.env as docker compose's env_file reads it. */
export function envFile(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/**
 * The stack's Mosquitto (TLS listener and health listener, accounts and ACL enrolled under `dir/enroll`,
 * certificates under `dir/pki`) and a fresh InfluxDB, started side by side.
 */
export function startStackPeers(
  dir: string,
  tlsPort: number,
  healthPort: number,
): Promise<[MosquittoHandle, InfluxHandle]> {
  return Promise.all([
    startMosquitto({
      listener: false,
      readyPort: tlsPort,
      extraConfig: stackMosquittoConfig({
        enrollDir: join(dir, 'enroll'),
        pkiDir: join(dir, 'pki'),
        tlsPort,
        healthPort,
      }),
    }),
    startInfluxdb(),
  ]);
}
