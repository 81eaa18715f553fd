// `vigie simulate`: runs the fleet, prints progress, stops cleanly on Ctrl-C or after --duration.
import { readFileSync, writeFileSync } from 'node:fs';
import {
  loadRegistry,
  REGISTRY_CSV_HEADER,
  RegistryError,
  registryCsvRow,
  type School,
} from '../shared/registry.ts';
import { buildFleet } from './fleet.ts';
import { connectionBudgetProblem, localPortRange, openFilesLimit } from './limits.ts';
import { formatProgress, formatSummary, type RunSummary } from './progress.ts';
import { DEFAULT_ROUND_OPTIONS } from './samples.ts';
import { Simulation, type SimulationOptions } from './simulation.ts';
import { copySnapshot, type FleetSnapshot } from './stats.ts';

export interface SimulateCommandOptions {
  agents: string;
  interval: string;
  broker: string;
  schools?: string;
  seed: string;
  outages: string;
  username?: string;
  password?: string;
  ca?: string;
  credentials?: string;
  impersonateRegistrySchools?: boolean;
  writeRegistry?: string;
  connectRate: string;
  duration?: string;
  progress: string;
  timezone: string;
  summaryJson?: string;
}

function positive(name: string, value: string, { integer = false, zero = false } = {}): number {
  const x = Number(value);
  const ok = Number.isFinite(x) && (zero ? x >= 0 : x > 0) && (!integer || Number.isInteger(x));
  if (!ok)
    throw new UsageError(
      `--${name} must be a ${integer ? 'whole ' : ''}number ${zero ? '≥ 0' : '> 0'}, got "${value}"`,
    );
  return x;
}

class UsageError extends Error {}

/** Memory the agents' spools may hold together; each agent gets its share, 10 to 1000 batches. */
export const SPOOL_BUDGET_BYTES = 512 * 1024 * 1024;
const BATCH_BYTES = 2600;

export function spoolMaxPerAgent(agents: number): number {
  return Math.max(10, Math.min(1000, Math.floor(SPOOL_BUDGET_BYTES / BATCH_BYTES / agents)));
}

export async function runSimulateCommand(
  opts: SimulateCommandOptions,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  let agents: number;
  let intervalS: number;
  let outagesPerHour: number;
  let connectRate: number;
  let progressS: number;
  let durationS: number | null;
  let schools: School[] = [];
  let identity: Pick<SimulationOptions, 'credentials' | 'ca'>;
  try {
    agents = positive('agents', opts.agents, { integer: true });
    intervalS = positive('interval', opts.interval);
    outagesPerHour = positive('outages', opts.outages, { zero: true });
    connectRate = positive('connect-rate', opts.connectRate);
    progressS = positive('progress', opts.progress);
    durationS = opts.duration === undefined ? null : positive('duration', opts.duration);
    if (!/^(mqtts?|tcp|tls|wss?):\/\//.test(opts.broker))
      throw new UsageError(`--broker must be a URL such as mqtt://127.0.0.1:1883, got "${opts.broker}"`);
    if (opts.schools) schools = [...loadRegistry(opts.schools).values()];
    if (opts.writeRegistry) {
      const fleet = buildFleet(agents, schools, opts.seed).map((f) => registryCsvRow(f.school));
      writeFileSync(opts.writeRegistry, `${REGISTRY_CSV_HEADER}\n${fleet.join('\n')}\n`);
      out(
        `${opts.writeRegistry}: ${agents} simulated schools (enroll them: vigie enroll --schools ${opts.writeRegistry} --out DIR)`,
      );
      return 0;
    }
    identity = identityOptions(opts, agents, schools.length);
  } catch (err) {
    if (err instanceof UsageError || err instanceof RegistryError) {
      process.stderr.write(`vigie simulate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const budget = connectionBudgetProblem(agents, openFilesLimit(), localPortRange());
  if (budget) {
    process.stderr.write(`vigie simulate: ${budget}\n`);
    return 2;
  }

  const sim = new Simulation({
    agents,
    schools,
    brokerUrl: opts.broker,
    username: opts.username,
    password: opts.password,
    ...identity,
    seed: opts.seed,
    intervalMs: Math.round(intervalS * 1000),
    outagesPerHour,
    spoolMax: spoolMaxPerAgent(agents),
    keepaliveS: 60,
    connectTimeoutMs: 30_000,
    connectRate,
    maxPendingConnects: Math.max(50, Math.round(connectRate / 2)),
    rounds: { ...DEFAULT_ROUND_OPTIONS, timeZone: opts.timezone },
  });
  const fromRegistry = Math.min(agents, schools.length);
  out(
    `simulating ${agents} school agents (${fromRegistry} from ${opts.schools ?? 'no registry'}, ${agents - fromRegistry} made up), ` +
      `one batch every ${intervalS} s each (~${(agents / intervalS).toFixed(0)} batches/s expected), ` +
      `${outagesPerHour} outages per school per hour, seed ${opts.seed}, broker ${opts.broker}, ` +
      `connecting ${connectRate} agents/s; each agent spools at most ${spoolMaxPerAgent(agents)} batches while it cannot publish`,
  );
  sim.start();

  const first = copySnapshot(sim.snapshot());
  let prev: FleetSnapshot = first;
  let peakConnected = 0;
  let allConnectedAt: FleetSnapshot | null = null;
  // Checked twice a second, apart from the progress lines, so the ramp time is not rounded to them.
  const watchRamp = setInterval(() => {
    const cur = sim.snapshot();
    peakConnected = Math.max(peakConnected, cur.connected);
    if (!allConnectedAt && cur.connected + cur.inOutage['wan-cut'] + cur.inOutage['power-cut'] >= cur.agents)
      allConnectedAt = copySnapshot(cur);
  }, 500);
  const progressTimer = setInterval(
    () => {
      const cur = copySnapshot(sim.snapshot());
      out(formatProgress(cur, prev));
      prev = cur;
    },
    Math.round(progressS * 1000),
  );

  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (durationS !== null) setTimeout(done, Math.round(durationS * 1000)).unref();
  });
  clearInterval(progressTimer);
  clearInterval(watchRamp);
  const stopAt = copySnapshot(sim.snapshot());
  peakConnected = Math.max(peakConnected, stopAt.connected);
  out('stopping: every agent sends a graceful offline and disconnects');
  await sim.stop();
  // Batches in flight at the stop are acked during it: count them.
  const last = { ...copySnapshot(sim.snapshot()), at: stopAt.at, connected: stopAt.connected };

  const c = last.counters;
  const secondsRun = (last.at - first.at) / 1000;
  const steady = allConnectedAt as FleetSnapshot | null;
  const summary: RunSummary = {
    agents,
    connectedAtEnd: last.connected,
    peakConnected,
    secondsRun,
    batchesMeasured: c.batches,
    batchesAcked: c.acked,
    ackedPerSecond: secondsRun > 0 ? c.acked / secondsRun : 0,
    steadyAckedPerSecond:
      steady && last.at - steady.at >= 1000
        ? ((c.acked - steady.counters.acked) * 1000) / (last.at - steady.at)
        : null,
    secondsToConnectAll: steady ? (steady.at - first.at) / 1000 : null,
    megabytesAcked: c.ackedBytes / 1e6,
    replayed: c.replayed,
    spoolDropped: c.spoolDropped,
    willsTriggered: c.willsTriggered,
    outagesStarted: { ...c.outagesStarted },
    refused: c.refused,
    networkErrors: c.networkErrors,
    timeouts: c.timeouts,
    connectionsLost: c.connectionsLost,
    rssMegabytes: process.memoryUsage().rss / 1e6,
  };
  out(formatSummary(summary));
  if (opts.summaryJson) writeFileSync(opts.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
  if (peakConnected === 0) {
    process.stderr.write(
      `vigie simulate: no agent ever connected to ${opts.broker} (refused ${c.refused}, network errors ${c.networkErrors}, timeouts ${c.timeouts}): check the URL, --ca and the credentials\n`,
    );
    return 1;
  }
  return 0;
}

/**
 * Who each agent is on the broker. Refuses (UsageError): one --username for several agents (a broker
 * that takes the username as client id, as the stack's does, would have them kick each other off);
 * schools from --schools over mqtts:// without --impersonate-registry-schools (a production broker:
 * each such agent would kick that real school's box off and record an outage for it).
 */
function identityOptions(
  opts: SimulateCommandOptions,
  agents: number,
  fromRegistry: number,
): Pick<SimulationOptions, 'credentials' | 'ca'> {
  if (opts.username && !opts.credentials && agents > 1)
    throw new UsageError(
      `--username gives all ${agents} agents one account: a broker that takes the username as client id (the stack's) has them kick each other off. Give each its own with --credentials (enroll the simulated schools: --write-registry, then vigie enroll)`,
    );
  if (fromRegistry > 0 && /^(mqtts|tls|wss):/.test(opts.broker) && !opts.impersonateRegistrySchools)
    throw new UsageError(
      `${opts.broker} is a TLS broker, where real schools are enrolled: simulating the ${Math.min(agents, fromRegistry)} school(s) of ${opts.schools} there would kick their real boxes off and record outages for them. Simulate made-up schools (drop --schools; --write-registry to enroll them) or, if these schools are not live, add --impersonate-registry-schools`,
    );
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new UsageError(`${what} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
  };
  let credentials: SimulationOptions['credentials'];
  if (opts.credentials) {
    let state: { schools?: Record<string, { username: string; password: string }> };
    try {
      state = JSON.parse(read('--credentials', opts.credentials).toString('utf8'));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--credentials ${opts.credentials}: not the JSON vigie enroll writes`);
    }
    if (!state.schools || typeof state.schools !== 'object')
      throw new UsageError(
        `--credentials ${opts.credentials}: no "schools" (expected vigie enroll's credentials.json)`,
      );
    credentials = new Map(Object.entries(state.schools));
  }
  return {
    ...(credentials ? { credentials } : {}),
    ...(opts.ca ? { ca: read('--ca', opts.ca) } : {}),
  };
}
