// What following the whole stream costs a collector of a group (docs/design-several-collectors.md): the
// CPU time of one metrics message on the `observe` path (intake: JSON parse, schema, line protocol;
// then presence and alert rounds), beside intake alone. Realistic batches from the simulator, in process,
// no I/O. Prints µs per message (median of 5 runs).
//
//   node --import tsx bench/observe-cost.ts [--schools 2000] [--rounds 10]
import { resolveCollectorConfig } from '../collector/config.ts';
import { intake } from '../collector/intake.ts';
import { startPresenceAndAlerts } from '../collector/presence-and-alerts.ts';
import { createLogger } from '../shared/log.ts';
import { buildBatch } from '../shared/messages.ts';
import { loadRegistry } from '../shared/registry.ts';
import { metricsTopic } from '../shared/topics.ts';
import { buildFleet } from '../simulator/fleet.ts';
import { agentRng } from '../simulator/random.ts';
import { LINK_UP, measureRound, newAgentState } from '../simulator/samples.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const schools = Number(arg('schools', '2000'));
const rounds = Number(arg('rounds', '10'));
const INTERVAL_MS = 60_000;

const registry = [...loadRegistry('examples/agglomeration.csv').values()];
const fleet = buildFleet(schools, registry, 'observe-cost');
const schoolMap = new Map(fleet.map((s) => [s.school.uai, s.school]));
const t0 = Date.UTC(2026, 2, 3, 9, 0, 0);
const messages: { topic: string; payload: Buffer; at: number }[] = [];
const states = fleet.map((sim, i) =>
  newAgentState(sim, agentRng('observe-cost', i, 'state'), t0, {
    timeZone: 'Europe/Paris',
    version: 'bench',
    speedtestEveryMs: 4 * 3_600_000,
  }),
);
for (let r = 0; r < rounds; r++)
  fleet.forEach((sim, i) => {
    const t = t0 + r * INTERVAL_MS;
    const samples = measureRound(sim, states[i]!, agentRng('observe-cost', i, `r${r}`), t, LINK_UP);
    const batch = buildBatch(sim.school.uai, 'box', r, t, samples);
    messages.push({
      topic: metricsTopic(sim.school.uai, 'box'),
      payload: Buffer.from(JSON.stringify(batch)),
      at: t + 200,
    });
  });
const bytes = messages.reduce((n, m) => n + m.payload.length, 0) / messages.length;

const config = resolveCollectorConfig({});
const ctx = (now: number) => ({ schools: schoolMap, config: config.ingest, now });

function intakeOnly(): number {
  const start = process.hrtime.bigint();
  for (const m of messages) intake(m.topic, m.payload, ctx(m.at));
  return Number(process.hrtime.bigint() - start) / 1000 / messages.length;
}

function observePath(): number {
  let now = t0;
  const watch = startPresenceAndAlerts({
    presence: { ...config.presence, rebuildFromInflux: false, intervalSeconds: INTERVAL_MS / 1000 },
    alerts: config.alerts,
    schools: schoolMap,
    points: { write: () => {} },
    channels: [],
    log: createLogger('bench', 'silent'),
    now: () => now,
    stampFromMessages: true,
  });
  const start = process.hrtime.bigint();
  for (const m of messages) {
    now = m.at;
    const r = intake(m.topic, m.payload, ctx(m.at));
    if (r.kind === 'metrics') watch.observer.onMetrics?.(r.batch, { receivedAt: m.at });
  }
  const us = Number(process.hrtime.bigint() - start) / 1000 / messages.length;
  void watch.stop();
  return us;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
intakeOnly();
observePath(); // warm-up: JIT
const intakeUs = median(Array.from({ length: 5 }, intakeOnly));
const observeUs = median(Array.from({ length: 5 }, observePath));
console.log(
  `observe-cost: ${messages.length} batches (${schools} schools × ${rounds} rounds, ${bytes.toFixed(0)} bytes each): ` +
    `intake ${intakeUs.toFixed(1)} µs/message, intake + presence + alert rounds ${observeUs.toFixed(1)} µs/message ` +
    `→ following a fleet of 10,000 agents at one batch a minute costs ${((observeUs * 10_000) / 60 / 1e4).toFixed(2)} % of a core`,
);
