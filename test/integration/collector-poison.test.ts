// One school's hostile messages never stop ingestion: the real collector process, behind the stack's
// Mosquitto (deploy/mosquitto/mosquitto.conf: TLS, enrolled passwords, ACL) and a real InfluxDB, while
// another school publishes good batches. School A publishes only under its own UAI, as the ACL allows.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVigieConfig } from '../../cli/config-file.ts';
import { ClockBook } from '../../collector/clock-offset.ts';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { type IntakeContext, intake } from '../../collector/intake.ts';
import { loadRegistry } from '../../shared/registry.ts';
import {
  type CollectorProcess,
  collectorProcess,
  collectorSection,
  everySample,
  makeBatch,
  type TestCollectorConfig,
} from '../harness/collector.ts';
import { freePort, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { PoisonMaker, type PoisonMessage, seededRandom } from '../harness/poison-messages.ts';
import { type PromFamily, parsePrometheusText, sampleValue } from '../harness/prometheus-text.ts';
import { enrollSchools, envFile, makePki, stackMosquittoConfig, UAI_A, UAI_B } from './deploy-pki.ts';

const POISONER = UAI_A;
const GOOD_SCHOOL = UAI_B;
const GOOD_AGENT = 'good';
const DB = 'poison';
const FUZZ_MESSAGES = 3000;
/** Memory is compared from here on: the first messages warm the collector up (JIT, heap sizing). */
const WARM_UP = 1000;
const GOOD_EVERY = 10;
const SEED = Number(process.env['VIGIE_FUZZ_SEED'] ?? 20_260_101);

let dir: string;
let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: CollectorProcess;
let collectorCfg: TestCollectorConfig;
let metricsUrl: string;
let tlsUrl: string;
const clients: MqttClient[] = [];
let poisoner: MqttClient;
let goodSchool: MqttClient;
let nextSeq = 0;
let tmpfs: string | undefined;

async function schoolClient(uai: string): Promise<MqttClient> {
  const { config } = loadVigieConfig(join(dir, 'enroll/agents', `${uai}.yaml`), {});
  const m = config.agent!.mqtt!;
  const client = await mqtt.connectAsync(tlsUrl, {
    username: m.username,
    password: m.password,
    ca: readFileSync(m.ca!),
    rejectUnauthorized: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  dir = tempDir('poison');
  chmodSync(dir, 0o755); // the broker drops to its own user before it reads the password file
  makePki(join(dir, 'pki'), 'localhost', '127.0.0.1');
  const [tlsPort, healthPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  tlsUrl = `mqtts://localhost:${tlsPort}`;
  enrollSchools(dir, tlsUrl, join(dir, 'pki/ca.crt'));
  const env = envFile(join(dir, 'enroll/collector.env'));
  const extraConfig = stackMosquittoConfig({
    enrollDir: join(dir, 'enroll'),
    pkiDir: join(dir, 'pki'),
    tlsPort,
    healthPort,
  });
  [broker, influx] = await Promise.all([
    startMosquitto({ listener: false, readyPort: tlsPort, extraConfig }),
    startInfluxdb(),
  ]);
  collectorCfg = {
    mqttUrl: tlsUrl,
    influxUrl: influx.url,
    database: DB,
    clientId: env['VIGIE_COLLECTOR__MQTT__USERNAME']!,
    schools: join(dir, 'schools.yaml'),
    extra: {
      mqtt: {
        username: env['VIGIE_COLLECTOR__MQTT__USERNAME'],
        password: env['VIGIE_COLLECTOR__MQTT__PASSWORD'],
        ca: join(dir, 'pki/ca.crt'),
      },
      // /metrics is how an operator sees refusals; it is also how this test reads the counters.
      http: { enabled: true, host: '127.0.0.1', port: httpPort },
      // The fuzz draws agent ids at random: the per-school agent bound (collector-cardinality.test.ts)
      // would refuse most of them before the poison under test reaches the decoder.
      ingest: { cardinality: { maxAgentsPerSchool: 100_000 } },
    },
  };
  metricsUrl = `http://127.0.0.1:${httpPort}/metrics`;
  collector = collectorProcess(collectorCfg);
  await collector.daemon.start();
  [poisoner, goodSchool] = await Promise.all([schoolClient(POISONER), schoolClient(GOOD_SCHOOL)]);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await collector?.daemon.dispose();
  if (tmpfs) execFileSync('umount', [tmpfs]);
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function scrape(): Promise<PromFamily[]> {
  const res = await fetch(metricsUrl);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return parsePrometheusText(await res.text());
}

const byLabel = (families: PromFamily[], name: string, label: string): Record<string, number> =>
  Object.fromEntries(
    (families.find((f) => f.name === name)?.metrics ?? []).map((m) => [
      m.labels?.[label] ?? '',
      Number(m.value),
    ]),
  );
const rejected = (f: PromFamily[]) => byLabel(f, 'vigie_collector_rejected_total', 'reason');
const received = (f: PromFamily[]) => byLabel(f, 'vigie_collector_messages_total', 'kind');
const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

async function rejectedNow(reason: string): Promise<number> {
  return rejected(await scrape())[reason] ?? 0;
}

/** One good batch of the good school, with its own seq and time; resolves once the broker has it. */
function publishGoodBatch(seq: number): Promise<unknown> {
  const t = Date.now() - 60_000 + (seq % 50_000);
  const body = JSON.stringify(makeBatch(GOOD_SCHOOL, GOOD_AGENT, seq, t, everySample(t)));
  return goodSchool.publishAsync(`vigie/v1/${GOOD_SCHOOL}/${GOOD_AGENT}/metrics`, body, { qos: 1 });
}

/** n good batches; resolves with their seqs once the broker has them all. */
async function publishGood(n: number): Promise<number[]> {
  const seqs = Array.from({ length: n }, () => nextSeq++);
  await Promise.all(seqs.map(publishGoodBatch));
  return seqs;
}

async function storedGoodSeqs(): Promise<Set<number>> {
  const rows = await influx.rows(
    `SELECT seq FROM "batch" WHERE uai = '${GOOD_SCHOOL}' AND agent = '${GOOD_AGENT}'`,
    DB,
  );
  return new Set(rows.map((r) => Number(r['seq'])));
}

async function expectStored(seqs: number[], timeoutMs = 20_000): Promise<void> {
  let stored = new Set<number>();
  await waitFor(
    `${seqs.length} good batches of school ${GOOD_SCHOOL} in InfluxDB`,
    async () => {
      stored = await storedGoodSeqs();
      return seqs.every((s) => stored.has(s));
    },
    timeoutMs,
    200,
  ).catch(() => undefined);
  expect(seqs.filter((s) => !stored.has(s))).toEqual([]);
}

const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const poisonTopic = (kind: string) => `vigie/v1/${POISONER}/box/${kind}`;

describe('a message that throws anywhere never stops ingestion', () => {
  it("refuses the 40 kB / 20,000-level metrics message and the 8,100-level event, and the other school's batches are stored", async () => {
    const before = await rejectedNow('too_deep');
    const metrics = `{"v":1,"x":${nested(20_000)}}`;
    const events = `{"v":1,"x":${nested(8_100)}}`;
    expect(metrics.length).toBeGreaterThanOrEqual(40_000);
    expect(events.length).toBeLessThanOrEqual(16 * 1024);
    await poisoner.publishAsync(poisonTopic('metrics'), metrics, { qos: 1 });
    await poisoner.publishAsync(poisonTopic('events'), events, { qos: 1 });
    await expectStored(await publishGood(20));
    expect(await rejectedNow('too_deep')).toBe(before + 2);
  });

  it('refuses retained poison again at each subscription: a restarted collector goes on ingesting', async () => {
    const poison: [string, string][] = [
      [poisonTopic('metrics'), `{"v":1,"x":${nested(20_000)}}`],
      [poisonTopic('events'), `{"v":1,"x":${nested(8_100)}}`],
      [poisonTopic('status'), `{"v":1,"x":${nested(2_000)}}`],
    ];
    const before = await rejectedNow('too_deep');
    for (const [topic, body] of poison) await poisoner.publishAsync(topic, body, { qos: 1, retain: true });
    await waitFor(
      'the three live deliveries refused',
      async () => (await rejectedNow('too_deep')) === before + 3,
    );

    await collector.daemon.stop();
    await collector.daemon.start();
    // A new process, counters from zero: the broker hands it the three retained messages at subscription.
    await waitFor(
      'the retained poison refused after the restart',
      async () => (await rejectedNow('too_deep')) === 3,
    );
    await expectStored(await publishGood(20));
    expect(readFileSync(collector.daemon.logFile, 'utf8')).toContain('retained on the broker');
    for (const [topic] of poison) await poisoner.publishAsync(topic, '', { qos: 1, retain: true });
  });

  it(`survives a seeded fuzz run (seed ${SEED}) on metrics, status and events while a good school publishes`, async () => {
    await expectStored(await publishGood(1)); // nothing left in flight from earlier tests
    const pid = collector.daemon.pid;
    const first = await scrape();
    const config = resolveCollectorConfig(collectorSection(collectorCfg)).ingest;
    const schools = loadRegistry(join(dir, 'schools.yaml'));
    // What the collector must decide, told by the same intake at the edges of the time it will receive
    // the message: a message whose fate changes inside that minute (none, by construction) is allowed either.
    const judge = (m: PoisonMessage, now: number, clocks?: ClockBook) => {
      const r = intake(m.topic, m.payload, {
        schools,
        config,
        now,
        ...(clocks ? { clocks } : {}),
      } satisfies IntakeContext);
      return r.kind === 'rejected' ? r.reason : null;
    };
    // The collector measures each agent's clock from the batches it received before (clock-offset.ts):
    // its decision on a message depends on the ones before it, which this book replays in publish order.
    const clocks = new ClockBook();
    const maker = new PoisonMaker(seededRandom(SEED), POISONER, Date.now);
    const sentByKind: Record<string, number> = {};
    const sentByTopic: Record<string, number> = { metrics: 0, status: 0, events: 0 };
    const expected: Record<string, number> = {};
    let ambiguous = 0;
    let retained = 0;
    let bytes = 0;
    let warm = first;
    let bytesWarm = 0;
    const goodSeqs: number[] = [];
    const published: Promise<unknown>[] = [];
    const inflight = new Set<Promise<unknown>>();
    const started = performance.now();
    let last = first;
    /** Resolves once the collector has received everything published so far. */
    const allReceived = async (timeoutMs: number) => {
      await Promise.all(published);
      const sent = published.length;
      await waitFor(
        `the collector to receive all ${sent} messages`,
        async () => {
          last = await scrape();
          return total(received(last)) - total(received(first)) === sent;
        },
        timeoutMs,
        250,
      ).catch(() => undefined);
    };
    for (let i = 0; i < FUZZ_MESSAGES; i++) {
      if (i === WARM_UP) {
        await allReceived(30_000);
        warm = last;
        bytesWarm = bytes;
      }
      const m = maker.next();
      sentByKind[m.kind] = (sentByKind[m.kind] ?? 0) + 1;
      sentByTopic[m.topic.slice(m.topic.lastIndexOf('/') + 1)]!++;
      bytes += m.payload.length;
      if (m.retain) retained++;
      const now = Date.now();
      const [early, late] = [judge(m, now - 30_000), judge(m, now + 30_000)];
      const decided = judge(m, now, clocks);
      if (early !== late) ambiguous++;
      else if (decided) expected[decided] = (expected[decided] ?? 0) + 1;
      const p = poisoner.publishAsync(m.topic, m.payload, { qos: 1, retain: m.retain });
      published.push(p);
      inflight.add(p);
      const settled = () => inflight.delete(p);
      p.then(settled, settled);
      if (inflight.size >= 64) await Promise.race(inflight);
      if (i % GOOD_EVERY === 0) {
        const seq = nextSeq++;
        goodSeqs.push(seq);
        published.push(publishGoodBatch(seq));
      }
    }
    await allReceived(45_000);
    await expectStored(goodSeqs, 30_000);
    const stored = await storedGoodSeqs();
    const elapsedS = (performance.now() - started) / 1000;

    const diff = (a: Record<string, number>, b: Record<string, number>) =>
      Object.fromEntries(
        Object.keys(a)
          .map((k) => [k, (a[k] ?? 0) - (b[k] ?? 0)] as const)
          .filter(([, v]) => v !== 0),
      );
    const got = diff(rejected(last), rejected(first));
    const rss = (f: PromFamily[]) => sampleValue(f, 'vigie_collector_process_resident_memory_bytes') ?? 0;
    const heap = (f: PromFamily[]) => sampleValue(f, 'vigie_collector_nodejs_heap_size_used_bytes') ?? 0;
    const mb = (n: number) => Math.round(n / 1e5) / 10;
    console.log(
      [
        `poison fuzz, seed ${SEED}: ${FUZZ_MESSAGES} messages from school ${POISONER} (${mb(bytes)} MB, ${retained} retained) in ${elapsedS.toFixed(1)} s`,
        `  sent by kind:     ${JSON.stringify(sentByKind)}`,
        `  sent by topic:    ${JSON.stringify(sentByTopic)}`,
        `  refused (collector /metrics): ${JSON.stringify(got)}`,
        `  refused (expected):           ${JSON.stringify(expected)}${ambiguous ? `, ${ambiguous} near a clock bound` : ''}`,
        `  good batches of school ${GOOD_SCHOOL}: ${goodSeqs.length} sent, ${goodSeqs.filter((s) => stored.has(s)).length} stored`,
        `  collector RSS ${mb(rss(first))} → ${mb(rss(warm))} (after ${WARM_UP} messages) → ${mb(rss(last))} MB after ${mb(bytes - bytesWarm)} MB more; heap used ${mb(heap(first))} → ${mb(heap(warm))} → ${mb(heap(last))} MB`,
      ].join('\n'),
    );

    expect(collector.daemon.running).toBe(true);
    expect(collector.daemon.pid).toBe(pid);
    expect(diff(received(last), received(first))).toEqual(
      diff({ ...sentByTopic, metrics: sentByTopic['metrics']! + goodSeqs.length }, {}),
    );
    expect(got['internal_error']).toBeUndefined();
    if (ambiguous === 0) expect(got).toEqual(expected);
    else expect(total(got) - total(expected)).toBeLessThanOrEqual(ambiguous);
    // Once warm, tens of MB of hostile payload leave the collector's memory where it was.
    expect(rss(last) - rss(warm)).toBeLessThan(32e6);
  }, 150_000);

  it('keeps a message it cannot make durable on a full disk: unacked, redelivered, stored once there is room', async () => {
    // The write-ahead log on a 1 MiB tmpfs that a filler file fills up: a real ENOSPC.
    await collector.daemon.stop();
    tmpfs = tempDir('poison-wal');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tmpfs]);
    collector = collectorProcess({ ...collectorCfg, walDir: join(tmpfs, 'wal') });
    await collector.daemon.start();
    await expectStored(await publishGood(1));

    const filler = join(tmpfs, 'filler');
    const fd = openSync(filler, 'w');
    for (const chunk of [64 * 1024, 1024, 1]) {
      try {
        for (;;) writeSync(fd, Buffer.alloc(chunk));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
    }
    closeSync(fd);
    const seqs = await publishGood(10);
    // Three refused appends: the message came back twice and was still kept, not refused.
    const faults = () => readFileSync(collector.daemon.logFile, 'utf8').split('local I/O fault').length - 1;
    await waitFor('the collector to fail its log append three times', async () => faults() >= 3);
    const pid = collector.daemon.pid;

    rmSync(filler);
    await expectStored(seqs);
    expect(collector.daemon.pid).toBe(pid);
    // No internal_error, and no torn record that InfluxDB would refuse. (The fuzz's retained messages
    // came back at this collector's subscription, refused with their own reasons.)
    const refused = rejected(await scrape());
    expect(refused['internal_error']).toBeUndefined();
    expect(refused['influx_rejected']).toBeUndefined();
  });
});
