// Times and scopes at the boundary of the collector: API periods and outage windows, the windows file
// read back at start, and the config's maintenance windows and holidays. No process time zone used.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { policyContext } from '../../collector/alerts/schedule.ts';
import { checkPeriod } from '../../collector/http/alerts.ts';
import { outageWindow } from '../../collector/http/history.ts';
import { inScope, MuteWindows } from '../../collector/http/mute-windows.ts';
import { createLogger } from '../../shared/log.ts';

const A = '0690001B';
const B = '0690002C';
const NOW = Date.UTC(2026, 5, 15, 12);
const HOUR = 3_600_000;

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, log: createLogger('test', 'info', stream) };
}

describe('a new silence or maintenance period', () => {
  const at = (ms: number) => new Date(ms).toISOString();
  it.each([
    [{ startsAt: '2026-12-31T23:59:60Z', endsAt: '2027-01-01T10:00:00Z' }, /^body\/startsAt: .*leap second/],
    [{ startsAt: at(NOW), endsAt: '2026-12-31T23:59:60Z' }, /^body\/endsAt: .*leap second/],
    [
      { startsAt: '2026-02-30T10:00:00Z', endsAt: at(NOW + HOUR) },
      /^body\/startsAt: .*February 2026 has no day 30/,
    ],
    [{ startsAt: at(NOW), endsAt: '+010000-01-01T00:00:00Z' }, /^body\/endsAt: .*only years 1970–2199/],
    [{ startsAt: '2026-06-15T14:00:00', endsAt: at(NOW + HOUR) }, /^body\/startsAt: .*has no offset/],
    [{ startsAt: String(NOW), endsAt: at(NOW + HOUR) }, /^body\/startsAt: .*looks like an epoch number/],
    [{ startsAt: 'NaN', endsAt: at(NOW + HOUR) }, /^body\/startsAt: "NaN" is not an RFC 3339 date-time/],
    [{ startsAt: at(NOW), endsAt: 'NaN' }, /^body\/endsAt: /],
    [{ startsAt: at(NOW + HOUR), endsAt: at(NOW) }, /^body\/endsAt: must be after startsAt$/],
    [{ startsAt: at(NOW - 2 * HOUR), endsAt: at(NOW - HOUR) }, /^body\/endsAt: is already past$/],
    [{ startsAt: at(NOW), endsAt: at(NOW + 400 * 24 * HOUR) }, /at most 366 days/],
  ])('refuses %j naming the field', (period, reason) => {
    expect(checkPeriod(period, NOW)).toMatch(reason);
  });

  it('reads a good one to ms', () => {
    expect(checkPeriod({ startsAt: '2026-06-15T14:00:00+02:00', endsAt: at(NOW + HOUR) }, NOW)).toEqual({
      startsAt: NOW,
      endsAt: NOW + HOUR,
    });
  });
});

describe('the window of an outage query', () => {
  it.each([
    [{ from: '2026-06-14T23:59:60Z' }, /^querystring\/from: .*leap second/],
    [{ to: '2026-06-14T23:59:60Z' }, /^querystring\/to: .*leap second/],
    [{ from: '2026-02-30T00:00:00Z' }, /^querystring\/from: .*no day 30/],
    [{ from: '3000-01-01T00:00:00Z', to: '3000-02-01T00:00:00Z' }, /^querystring\/to: .*year 3000/],
    [{ from: '2026-06-10T00:00:00' }, /^querystring\/from: .*has no offset/],
    [{ from: '1781000000000' }, /^querystring\/from: .*epoch number/],
    [{ to: 'NaN' }, /^querystring\/to: /],
    [{ from: '2026-06-16T00:00:00Z' }, /"from" must be before "to"/],
    [{ from: '2025-01-01T00:00:00Z' }, /at most 400 days/],
  ])('refuses %j naming the parameter', (q, reason) => {
    expect(outageWindow(q, NOW)).toMatch(reason);
  });

  it('defaults to the 7 days before now, and reads offsets', () => {
    expect(outageWindow({}, NOW)).toEqual({ from: NOW - 7 * 24 * HOUR, to: NOW });
    expect(outageWindow({ to: '2026-06-15T14:00:00+02:00' }, 0)).toEqual({
      from: NOW - 7 * 24 * HOUR,
      to: NOW,
    });
  });
});

describe('scopes never widen', () => {
  const school = { uai: A, commune: 'Vienne', isp: 'Orange' };
  it('matches every school only for {}; a given but empty list matches none', () => {
    expect(inScope({}, school)).toBe(true);
    expect(inScope({ uai: [] }, school)).toBe(false);
    expect(inScope({ commune: [] }, school)).toBe(false);
    expect(inScope({ isp: [] }, school)).toBe(false);
    expect(inScope({ uai: [A], commune: ['Vienne'] }, school)).toBe(true);
  });
});

describe('the windows file read back at start', () => {
  const base = {
    comment: 'c',
    createdBy: 'noc',
    createdAt: NOW - HOUR,
    startsAt: NOW - HOUR,
    endsAt: NOW + HOUR,
  };
  const silence = (over: Record<string, unknown>) => ({ ...base, scope: {}, kinds: [], ...over });

  it('applies the entries it can read, and skips, reports, counts and keeps the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-windows-'));
    const file = join(dir, 'windows.json');
    writeFileSync(
      file,
      JSON.stringify({
        silences: [
          silence({ id: 'good', scope: { uai: [A] } }),
          // What the old code saved for a leap second: NaN became null.
          silence({ id: 'leap', startsAt: null }),
          silence({ id: 'typo', scope: { uais: [B] } }),
          silence({ id: 'no-kinds', scope: { uai: [B] }, kinds: undefined }),
          silence({ id: 'text-time', endsAt: '2026-12-31T23:59:60Z' }),
          silence({ id: 'fraction', startsAt: NOW - 0.5 }),
          silence({ id: 'year-3000', endsAt: Date.UTC(3000, 0, 1) }),
          silence({ id: 'backwards', startsAt: NOW + HOUR, endsAt: NOW - HOUR }),
        ],
        maintenance: [
          { ...base, id: 'empty-list', scope: { uai: [] } },
          { ...base, id: 'null-scope', scope: null },
          { ...base, id: 'string-uai', scope: { uai: A } },
          null,
        ],
      }),
    );
    const { lines, log } = capture();
    const w = new MuteWindows({ file, max: 100, now: () => NOW, log });
    const sb = { uai: B, commune: 'Lyon', isp: 'Free' };
    expect(w.muted({ kind: 'school_offline', uai: B }, sb, NOW)).toBeNull();
    expect(w.muted({ kind: 'school_offline', uai: A }, { uai: A }, NOW)).toBe('silenced');
    expect(w.silences.list().map((s) => s.id)).toEqual(['good']);
    expect(w.maintenance.list()).toEqual([]);
    expect(w.unreadable).toBe(11);
    const said = lines.map((l) => String(l['msg']));
    for (const [entry, reason] of [
      ['silences[1] (id leap)', /\/startsAt: must be integer/],
      ['silences[2] (id typo)', /\/scope: unexpected property "uais"/],
      ['silences[3] (id no-kinds)', /missing property "kinds"/],
      ['silences[4] (id text-time)', /\/endsAt: must be integer/],
      ['silences[5] (id fraction)', /\/startsAt: must be integer/],
      ['silences[6] (id year-3000)', /\/endsAt: must be <= /],
      ['silences[7] (id backwards)', /\/endsAt: must be after startsAt/],
      ['maintenance[0] (id empty-list)', /\/scope\/uai: must NOT have fewer than 1 items/],
      ['maintenance[1] (id null-scope)', /\/scope: must be object/],
      ['maintenance[2] (id string-uai)', /\/scope\/uai: must be array/],
      ['maintenance[3]', /\/: must be object/],
    ] as const) {
      const line = said.find((m) => m.includes(`${file}: ${entry} cannot be read`));
      expect(line, entry).toMatch(reason);
      expect(line).toMatch(/not applied; kept under "unreadable"/);
    }
    expect(lines.every((l) => l['level'] === 50)).toBe(true);

    // A later save keeps them for a person to mend, and the next start reports them again.
    await w.silences.create({ ...base, scope: { uai: [B] }, kinds: [] });
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { silences: unknown[]; unreadable: unknown[] };
    expect(saved.silences).toHaveLength(2);
    expect(saved.unreadable).toHaveLength(11);
    // Even when a person left odd things there.
    saved.unreadable.push(7, null, { where: 'by hand' });
    writeFileSync(file, JSON.stringify(saved));
    const again = capture();
    const w2 = new MuteWindows({ file, max: 100, now: () => NOW, log: again.log });
    expect(w2.unreadable).toBe(14);
    expect(again.lines.some((l) => String(l['msg']).includes('silences[2] (id typo) cannot be read'))).toBe(
      true,
    );
    expect(w2.muted({ kind: 'loss', uai: A }, { uai: A }, NOW)).toBe('silenced');
    expect(w2.muted({ kind: 'loss', uai: '0690003D' }, { uai: '0690003D' }, NOW)).toBeNull();
  });

  it('sets a file that is not JSON aside, says so, and starts with none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-windows-'));
    const file = join(dir, 'windows.json');
    writeFileSync(file, '{"silences": [');
    const { lines, log } = capture();
    const w = new MuteWindows({ file, max: 100, now: () => NOW, log });
    expect(w.silences.list()).toEqual([]);
    expect(readdirSync(dir)).toEqual([`windows.json.unreadable-${NOW}`]);
    expect(String(lines[0]?.['msg'])).toMatch(/is not readable JSON .*moved to .*unreadable-/);
  });
});

describe('maintenance windows and holidays from the config', () => {
  const cfg = (over: object) => ({
    timezone: 'Europe/Paris',
    hours: {},
    calendars: {},
    maintenance: [],
    silences: [],
    ...over,
  });
  const none = () => undefined;

  it('reads a time without offset in the configured zone, never the process zone', () => {
    // 20:00 in Paris in February is 19:00 UTC: muted from then.
    const ctx = policyContext(
      cfg({ maintenance: [{ from: '2026-02-10T20:00:00', to: '2026-02-11T06:00:00' }] }),
      none,
    );
    const alert = { kind: 'school_offline', uai: A } as never;
    expect(ctx.muted(alert, undefined, Date.UTC(2026, 1, 10, 18, 59))).toBeNull();
    expect(ctx.muted(alert, undefined, Date.UTC(2026, 1, 10, 19, 0))).toBe('maintenance');
    expect(ctx.muted(alert, undefined, Date.UTC(2026, 1, 11, 5, 0))).toBeNull();
  });

  it.each([
    [
      { maintenance: [{ from: '2026-12-31T23:59:60Z', to: '2027-01-01T06:00:00Z' }] },
      /^collector\.alerts\.maintenance\[0\]\.from: .*leap second/,
    ],
    [
      { silences: [{ from: '2026-02-10T20:00:00Z', to: '2026-02-30T06:00:00Z' }] },
      /^collector\.alerts\.silences\[0\]\.to: .*no day 30/,
    ],
    [
      { maintenance: [{ from: '2026-03-29T02:30:00', to: '2026-03-29T05:00:00' }] },
      /maintenance\[0\]\.from: .*does not exist in Europe\/Paris/,
    ],
    [
      { maintenance: [{ from: '2026-10-25T02:30:00', to: '2026-10-25T05:00:00' }] },
      /maintenance\[0\]\.from: .*happens twice/,
    ],
    [
      { maintenance: [{ from: '2026-02-10T20:00:00Z', to: '+010000-01-01T00:00:00Z' }] },
      /maintenance\[0\]\.to: .*only years/,
    ],
    [
      { maintenance: [{ from: '2026-02-11T20:00:00Z', to: '2026-02-10T20:00:00Z' }] },
      /maintenance\[0\]\.to: .* is not after from/,
    ],
    [
      { calendars: { 'zone-a': [{ name: 'x', from: '2026-02-30', to: '2026-03-01' }] } },
      /^collector\.alerts\.calendars\.zone-a\[0\]\.from: .*no day 30/,
    ],
    [
      { calendars: { feries: [{ name: 'x', from: '2027-02-29', to: '2027-02-29' }] } },
      /feries\[0\]\.from: .*February 2027 has no day 29/,
    ],
    [
      { calendars: { 'zone-a': [{ name: 'x', from: '2026-03-01', to: '2026-02-01' }] } },
      /zone-a\[0\]\.to: 2026-02-01 is before from/,
    ],
  ])('refuses %j at start, naming the key', (over, reason) => {
    expect(() => policyContext(cfg(over), none)).toThrow(reason);
  });
});
