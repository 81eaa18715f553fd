// The demo's config file and registry, written into its data folder at each start: a pure function of
// the options, so what runs is what the file says (`vigie config check` accepts it, a newcomer can read it).
import { registryCsvRow, type School } from '../shared/registry.ts';
import { type Uai, uaiCheckLetter } from '../shared/uai.ts';

export interface DemoSettings {
  dataDir: string;
  /** Where the board listens (127.0.0.1: nothing is exposed to the network). The broker: DEMO_BROKER_HOST. */
  host: string;
  brokerPort: number;
  httpPort: number;
  /** The loopback DNS responder the real agent queries. */
  dnsPort: number;
  /** Seconds between two batches of every agent, real and simulated. */
  intervalS: number;
  /** Absent: points go to `<dataDir>/points.lp`. */
  influxUrl?: string | undefined;
  registryFile: string;
  /** Board token for other machines, when the board listens beyond loopback. */
  readToken?: string | undefined;
}

/** The school this machine's agent reports as: a UAI of no real school (check letter included). */
export const DEMO_UAI = `0699999${uaiCheckLetter('0699999')}` as Uai;
export const DEMO_AGENT = 'this-machine';
/** The name the real agent resolves; `.test` is reserved, so it never leaks to a real resolver. */
export const DEMO_DNS_NAME = 'ent.vigie-demo.test';

export const thisMachine: School = {
  uai: DEMO_UAI,
  name: 'Ce poste (agent réel)',
  commune: 'Démo',
  lat: 45.764,
  lon: 4.8357,
  isp: 'loopback',
  contractedDownMbps: 1000,
  contractedUpMbps: 1000,
  hours: 'school',
};

export const demoPaths = (dataDir: string) => ({
  config: `${dataDir}/vigie-demo.yaml`,
  registry: `${dataDir}/schools.csv`,
  points: `${dataDir}/points.lp`,
  logs: `${dataDir}/logs`,
  wal: `${dataDir}/collector-wal`,
  agentSpool: `${dataDir}/agent-spool`,
  windows: `${dataDir}/windows.json`,
});

/** The registry with this machine's row appended (same columns as examples/agglomeration.csv). */
export function demoRegistryCsv(registryCsv: string): string {
  return `${registryCsv.trimEnd()}\n${registryCsvRow(thisMachine)}\n`;
}

/**
 * The demo's broker has no accounts, and every client of it runs on this machine: it stays on
 * loopback even when the board is shown to other screens (`--host 0.0.0.0`).
 */
export const DEMO_BROKER_HOST = '127.0.0.1';

/** The address this machine's own clients use: a wildcard listener answers on loopback. */
export const localAddress = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

export function demoConfig(s: DemoSettings): { collector: object; agent: object } {
  const paths = demoPaths(s.dataDir);
  const loopback = localAddress(s.host);
  const api = `http://${loopback}:${s.httpPort}`;
  return {
    collector: {
      schools: paths.registry,
      broker: { host: DEMO_BROKER_HOST, port: s.brokerPort },
      ...(s.influxUrl ? { influx: { url: s.influxUrl } } : { pointsFile: paths.points }),
      wal: { dir: paths.wal, maxBytes: 256 * 1024 * 1024 },
      // Without InfluxDB there is nothing to rebuild presence from; with it, a restart resumes.
      presence: { intervalSeconds: s.intervalS, rebuildFromInflux: Boolean(s.influxUrl) },
      http: {
        host: s.host,
        port: s.httpPort,
        windowsFile: paths.windows,
        ...(s.readToken ? { auth: { readTokens: [s.readToken] } } : {}),
        board: { title: 'Vigie · démo' },
      },
    },
    agent: {
      uai: DEMO_UAI,
      id: DEMO_AGENT,
      mqtt: { url: `mqtt://${DEMO_BROKER_HOST}:${s.brokerPort}` },
      spool: { dir: paths.agentSpool },
      batchIntervalS: s.intervalS,
      // Local targets only: this machine's loopback, the demo's own resolver and the collector itself.
      // Never the default gateway nor any other address: the demo must not probe the network it runs on.
      probes: {
        ping: { intervalS: 20, targets: [{ host: '127.0.0.1', name: 'loopback', role: 'other' }] },
        dns: { intervalS: 30, queries: [{ resolver: `127.0.0.1:${s.dnsPort}`, name: DEMO_DNS_NAME }] },
        http: {
          intervalS: 30,
          targets: [
            { url: `${api}/healthz`, name: 'collector-api' },
            { url: `${api}/`, name: 'status-board' },
          ],
        },
        wan: { intervalS: 10, interfaces: ['lo'] },
        wifi: { enabled: false },
        speedtest: { enabled: false },
        self: { intervalS: 30 },
      },
    },
  };
}
