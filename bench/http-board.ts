// What the HTTP API costs as the fleet grows: time to build /api/schools and /metrics for N schools
// (in process, fastify inject, so the network is not measured), and the size of the answer.
//
//   npx tsx bench/http-board.ts [--schools 100,1000,10000] [--requests 30]
import { Ajv } from 'ajv';
import { HttpConfig } from '../collector/http/config.ts';
import { SchoolReadings } from '../collector/http/readings.ts';
import { buildHttpServer } from '../collector/http/server.ts';
import { createLogger } from '../shared/log.ts';
import type { School } from '../shared/registry.ts';
import { type Uai, uaiCheckLetter } from '../shared/uai.ts';
import { addVigieFormats } from '../shared/validate.ts';
import { StatusPresence } from '../test/harness/status-presence.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const sizes = arg('schools', '100,1000,10000').split(',').map(Number);
const requests = Number(arg('requests', '30'));

const config = (() => {
  const c = {};
  addVigieFormats(new Ajv({ useDefaults: true, strict: false })).compile(HttpConfig)(c);
  return c as HttpConfig;
})();

async function step(n: number) {
  const schools = new Map<string, School>();
  const presence = new StatusPresence();
  const readings = new SchoolReadings();
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const digits = String(690_000 + i).padStart(7, '0');
    const uai = `${digits}${uaiCheckLetter(digits)}` as Uai;
    schools.set(uai, {
      uai,
      name: `École ${i}`,
      commune: `Commune ${i % 60}`,
      lat: 45,
      lon: 4,
      isp: 'Orange',
      contractedDownMbps: 100,
      contractedUpMbps: 20,
      hours: 'school',
    });
    presence.onStatus(
      { v: 1, uai, agent: 'box', state: 'online', t: now },
      { retained: false, receivedAt: now },
    );
    readings.onMetrics(
      {
        v: 1,
        uai,
        agent: 'box',
        seq: 1,
        t: now,
        samples: [
          {
            probe: 'ping',
            t: now,
            target: 'a',
            role: 'anchor',
            sent: 10,
            received: 10,
            lossPct: 0,
            medianMs: 12,
          },
          { probe: 'wan', t: now, source: 'snmp', iface: 'wan0', inBps: 1e7, outBps: 1e6 },
        ],
      },
      { receivedAt: now },
    );
  }
  const app = await buildHttpServer(
    config,
    {
      registry: { schools: () => schools.values(), school: (u) => schools.get(u) },
      presence,
      readings,
      influx: { query: async () => [], ping: async () => true, database: 'bench' },
    },
    { logger: createLogger('bench', 'silent') },
  );
  const time = async (url: string) => {
    await app.inject({ url }); // warm
    const t0 = performance.now();
    let bytes = 0;
    for (let i = 0; i < requests; i++) bytes = (await app.inject({ url })).rawPayload.length;
    return { ms: (performance.now() - t0) / requests, kB: bytes / 1024 };
  };
  const list = await time('/api/schools');
  const metrics = await time('/metrics');
  await app.close();
  console.log(
    `${String(n).padStart(6)} schools  /api/schools ${list.ms.toFixed(1).padStart(7)} ms  ${list.kB.toFixed(0).padStart(6)} kB` +
      `   /metrics ${metrics.ms.toFixed(1).padStart(6)} ms`,
  );
}

for (const n of sizes) await step(n);
