// The restart hold without sockets: a scripted InfluxDB read, real (short) timers, waits on the hold's
// own promises. Against real InfluxDB and Mosquitto: test/integration/collector-restart.test.ts.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { holdUntilRebuilt, type Remembered } from '../../collector/alerts/restart.ts';
import { InfluxQueryError, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../collector/influx-http.ts';
import { createLogger } from '../../shared/log.ts';

const REMEMBERED: Remembered = {
  presence: { agents: [], schools: [{ uai: '0690001B', state: 'offline', since: 1000 }] },
  paged: [],
};

/** Resolves once `cond` holds (checked every 5 ms), or fails after a generous budget. */
async function until(cond: () => boolean, budgetMs = 10_000): Promise<void> {
  const deadline = Date.now() + budgetMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const unreachable = (retryAfterMs?: number) =>
  new InfluxQueryError('connect ECONNREFUSED 127.0.0.1:8086', 'unreachable', 0, retryAfterMs);

/** A hold over a read that answers from `script` in turn (an error is thrown), the last answer repeated. */
function scripted(
  script: (Remembered | Error)[],
  opts: { holdMs?: number; written?: () => Promise<void>; retryMinMs?: number } = {},
) {
  const lines: { level: number; msg: string }[] = [];
  const log = createLogger(
    'test',
    'info',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  const reads: number[] = [];
  const applied: { remembered: Remembered | null; late: boolean }[] = [];
  let lateApplied: () => void = () => {};
  const late = new Promise<void>((resolve) => {
    lateApplied = resolve;
  });
  const hold = holdUntilRebuilt({
    read: async () => {
      reads.push(Date.now());
      const next = script[Math.min(reads.length - 1, script.length - 1)]!;
      if (next instanceof Error) throw next;
      return next;
    },
    ...(opts.written ? { written: opts.written } : {}),
    holdMs: opts.holdMs ?? 10_000,
    retryMinMs: opts.retryMinMs ?? 5,
    retryMaxMs: 20,
    log,
    apply(remembered, isLate) {
      applied.push({ remembered, late: isLate });
      if (isLate) lateApplied();
    },
  });
  const warnings = () => lines.filter((l) => l.level === 40).map((l) => l.msg);
  return { hold, reads, applied, late, warnings, lines };
}

describe('restart hold: presence and pages read back before any school is judged', () => {
  it('takes a new, empty database as nothing to rebuild, without a warning', async () => {
    const missing = new InfluxQueryError('InfluxQL "…": database not found: vigie', 'missing', 200);
    const s = scripted([missing]);
    await s.hold.done;
    expect(s.applied).toEqual([
      { remembered: { presence: { agents: [], schools: [] }, paged: [] }, late: false },
    ]);
    expect(s.warnings()).toEqual([]);
    expect(s.lines.map((l) => l.msg)).toContain(
      'nothing to rebuild presence from: the InfluxDB database is new',
    );
  });

  it('retries while InfluxDB is unreachable, says so once, and applies the state in time', async () => {
    const s = scripted([unreachable(), unreachable(), unreachable(), REMEMBERED]);
    await s.hold.ready;
    expect(s.reads).toHaveLength(4);
    expect(s.applied).toEqual([{ remembered: REMEMBERED, late: false }]);
    expect(s.warnings()).toEqual([
      'InfluxDB unreachable at start: school alerts held until presence is rebuilt (at most 10 s)',
    ]);
  });

  it('waits as long as a Retry-After InfluxDB sent, not the shorter backoff', async () => {
    const s = scripted([unreachable(300), REMEMBERED]);
    await s.hold.ready;
    expect(s.reads).toHaveLength(2);
    expect(s.reads[1]! - s.reads[0]!).toBeGreaterThanOrEqual(295);
  });

  it('goes on from unknown past the bound, says so once, and keeps trying quietly', async () => {
    const s = scripted([unreachable()], { holdMs: 150 });
    await s.hold.ready;
    expect(s.applied).toEqual([{ remembered: null, late: false }]);
    const readsAtBound = s.reads.length;
    await until(() => s.reads.length >= readsAtBound + 3);
    s.hold.stop();
    await s.hold.done;
    expect(s.applied).toHaveLength(1);
    expect(s.warnings()).toEqual([
      'InfluxDB unreachable at start: school alerts held until presence is rebuilt (at most 0.15 s)',
      'could not rebuild presence from InfluxDB within 0.15 s: going on from unknown (an outage paged before the restart may be paged again); still trying in the background',
    ]);
  });

  it('restores late, once, what InfluxDB finally answers after the bound', async () => {
    const script: (Remembered | Error)[] = Array.from({ length: 30 }, () => unreachable());
    const s = scripted([...script, REMEMBERED], { holdMs: 100, retryMinMs: 20 });
    await s.hold.ready;
    expect(s.applied).toEqual([{ remembered: null, late: false }]);
    await s.late;
    await s.hold.done;
    expect(s.applied).toEqual([
      { remembered: null, late: false },
      { remembered: REMEMBERED, late: true },
    ]);
    expect(s.warnings()).toHaveLength(2);
  });

  it("reads again once the previous run's last points are in InfluxDB, and only then applies", async () => {
    let flush: () => void = () => {};
    const written = new Promise<void>((resolve) => {
      flush = resolve;
    });
    const older: Remembered = { presence: { agents: [], schools: [] }, paged: [] };
    const s = scripted([older, REMEMBERED], { written: () => written });
    await until(() => s.reads.length === 1);
    expect(s.applied).toEqual([]);
    flush();
    await s.hold.ready;
    expect(s.reads).toHaveLength(2);
    expect(s.applied).toEqual([{ remembered: REMEMBERED, late: false }]);
    expect(s.warnings()).toEqual([]);
  });

  it('goes on at once when InfluxDB refuses the query itself (retrying cannot help)', async () => {
    const refused = new InfluxQueryError('InfluxQL "…": authorization failed', 'refused', 401);
    const s = scripted([refused]);
    await s.hold.done;
    expect(s.reads).toHaveLength(1);
    expect(s.applied).toEqual([{ remembered: null, late: false }]);
    expect(s.warnings()).toHaveLength(1);
  });

  it('lets a stop end the hold at once', async () => {
    const s = scripted([unreachable()]);
    s.hold.stop();
    await s.hold.ready;
    await s.hold.done;
    expect(s.applied).toEqual([]);
  });
});

describe('Retry-After', () => {
  const NOW = Date.parse('2026-02-10T09:00:00Z');
  it('reads delta-seconds and HTTP-dates, caps them, and ignores what it cannot read', () => {
    expect(parseRetryAfter('20', NOW)).toBe(20_000);
    expect(parseRetryAfter(['0'], NOW)).toBe(0);
    expect(parseRetryAfter('Tue, 10 Feb 2026 09:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Tue, 10 Feb 2026 08:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('86400', NOW)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('Wed, 11 Feb 2026 09:00:00 GMT', NOW)).toBe(MAX_RETRY_AFTER_MS);
    for (const bad of [undefined, '', '-5', '1.5', 'soon', '2026-02-10T09:00:30Z'])
      expect(parseRetryAfter(bad, NOW)).toBeUndefined();
  });
});
