// The collector's HTTP API at its documented defaults, as the real process (its config file, the
// embedded broker, the real InfluxDB): silences and maintenance windows outlive a restart without
// `http.windowsFile`; a window naming an unknown kind, UAI, commune or ISP is refused with the near
// match; docs/api.md's POST examples work as written; behind a reverse proxy on the same host,
// loopback is not a reason to answer without a token.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { freePort, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const READ = 'read-token-for-windows-0001';
const ADMIN = 'admin-token-for-windows-0001';

let influx: InfluxHandle;
let proc: CollectorProcess;
let port: number;
const base = () => `http://127.0.0.1:${port}`;

beforeAll(async () => {
  influx = await startInfluxdb();
  port = await freePort();
  proc = collectorProcess({
    influxUrl: influx.url,
    database: 'windows_defaults',
    schools: join(ROOT, 'examples/schools.csv'),
    extra: {
      http: { enabled: true, host: '127.0.0.1', port, auth: { readTokens: [READ], adminToken: ADMIN } },
    },
  });
  await proc.daemon.start();
  await waitFor('the collector HTTP server', async () => (await fetch(`${base()}/healthz`)).ok, 60_000);
}, 120_000);

afterAll(async () => {
  await proc?.daemon.dispose();
  await influx?.daemon.dispose();
});

const post = (path: string, body: unknown) =>
  fetch(`${base()}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const list = async (path: string) =>
  (await (await fetch(`${base()}${path}`, { headers: { authorization: `Bearer ${READ}` } })).json()) as {
    id: string;
  }[];

/** Every `curl … -X POST https://…/api/… -d '{…}'` of docs/api.md: its path and JSON body. */
function docExamples(): { path: string; body: Record<string, unknown> }[] {
  const doc = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
  const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ' '));
  return blocks.flatMap((b) => {
    const m = /curl .*-X POST https?:\/\/[^/\s]+(\/api\/\S+) .*-d '([^']+)'/.exec(b);
    return m ? [{ path: m[1]!, body: JSON.parse(m[2]!) }] : [];
  });
}

const period = {
  startsAt: '2030-03-02T07:00:00+01:00',
  endsAt: '2030-03-02T18:00:00+01:00',
  comment: 'test',
  createdBy: 'test',
};
const created: { path: string; id: string }[] = [];

describe('silences and maintenance windows at default settings', () => {
  it("docs/api.md's POST examples work as written, one per route", async () => {
    const examples = docExamples();
    expect(examples.map((e) => e.path).sort()).toEqual(['/api/maintenance', '/api/silences']);
    for (const e of examples) {
      const res = await post(e.path, e.body);
      const text = await res.text();
      expect(res.status, `${e.path}: ${text}`).toBe(201);
      created.push({ path: e.path, id: (JSON.parse(text) as { id: string }).id });
    }
  });

  it('refuses an unknown kind, UAI, commune or ISP with 400 and the near match', async () => {
    const unknownUai = `0389999${uaiCheckLetter('0389999')}`;
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { scope: {}, kinds: ['school_ofline'] },
        /body\/kinds\/0: "school_ofline" is not an alert kind \(did you mean "school_offline"\?\)/,
      ],
      [
        { scope: { commune: ['Viene'] }, kinds: [] },
        /body\/scope\/commune\/0: "Viene" is not a commune of the registry \(did you mean "Vienne"\?\)/,
      ],
      [
        { scope: { isp: ['Orage'] } },
        /body\/scope\/isp\/0: "Orage" is not an ISP of the registry \(did you mean "Orange"\?\)/,
      ],
      [
        { scope: { uai: [unknownUai] } },
        new RegExp(`body/scope/uai/0: "${unknownUai}" is not a school UAI of the registry`),
      ],
    ];
    const before = (await list('/api/silences')).length;
    for (const [body, message] of cases) {
      const res = await post('/api/silences', { ...body, ...period });
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(JSON.parse(text).message).toMatch(message);
    }
    const maint = await post('/api/maintenance', { scope: { commune: ['Viene'] }, ...period });
    expect(maint.status).toBe(400);
    expect((await list('/api/silences')).length).toBe(before);
  });

  it('keeps them across a restart without http.windowsFile; behind a proxy, loopback needs a token', async () => {
    expect(created).toHaveLength(2);
    const doc = parse(readFileSync(proc.configFile, 'utf8'));
    expect(doc.collector.http.windowsFile).toBeUndefined();
    // Today: no proxy named, so loopback reads without a token, unless the request was forwarded.
    expect((await fetch(`${base()}/api/schools`)).status).toBe(200);
    for (const path of ['/api/schools', '/metrics']) {
      const res = await fetch(`${base()}${path}`, { headers: { 'x-forwarded-for': '198.18.7.7' } });
      expect(res.status, path).toBe(401);
    }
    // Restart behind a reverse proxy on the same host, as docs/deploy.md configures it.
    doc.collector.http.trustProxy = ['127.0.0.1', '::1'];
    writeFileSync(proc.configFile, stringify(doc));
    await proc.daemon.restart();
    await waitFor(
      'the collector HTTP server again',
      async () => (await fetch(`${base()}/healthz`)).ok,
      60_000,
    );
    for (const { path, id } of created)
      expect(
        (await list(path)).map((w) => w.id),
        path,
      ).toContain(id);
    for (const path of ['/api/schools', '/metrics']) {
      expect((await fetch(`${base()}${path}`)).status, `${path} from the proxy itself`).toBe(401);
      const forwarded = await fetch(`${base()}${path}`, { headers: { 'x-forwarded-for': '198.18.7.7' } });
      expect(forwarded.status, `${path} for a school's box`).toBe(401);
      const withToken = await fetch(`${base()}${path}`, {
        headers: { 'x-forwarded-for': '198.18.7.7', authorization: `Bearer ${READ}` },
      });
      expect(withToken.status, `${path} with a token`).toBe(200);
    }
  }, 120_000);
});
