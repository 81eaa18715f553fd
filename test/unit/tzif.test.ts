// Zone offsets from the system's tz database (shared/tzif.ts), as shared/local-time.ts reads them:
// the same as Intl's for every zone, DST and the TZif footer's rule past the last transition included,
// without loading ICU (~8 MiB of the agent's RSS, bench/agent-footprint). Runs under TZ=UTC and
// TZ=Pacific/Chatham: nothing here may depend on the process's zone.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localTime, nextOffsetChange, zoneOffsetMs } from '../../shared/local-time.ts';
import { parsePosixTz, parseTzif, posixOffsetS, readZoneRules } from '../../shared/tzif.ts';
import { tempDir } from '../harness/daemon.ts';

const H = 3600;
const hasTzdata = existsSync('/usr/share/zoneinfo/Europe/Paris');

/**
 * The years both sides hold the same rules for: to 2060 when the system's tzdata is the release ICU
 * carries, else up to the year before the older of the two (a later release may change any zone).
 */
function comparedUntilMs(): number {
  const zi = '/usr/share/zoneinfo/tzdata.zi';
  const system = existsSync(zi)
    ? /^# version (\d{4}[a-z]*)/.exec(readFileSync(zi, 'latin1'))?.[1]
    : undefined;
  const icu = process.versions.tz;
  if (system && system === icu) return Date.UTC(2060, 0, 1);
  return Date.UTC(
    Math.min(Number((system ?? '2025').slice(0, 4)), Number((icu ?? '2025').slice(0, 4))) - 1,
    0,
    1,
  );
}

function intlOffsetS(f: Intl.DateTimeFormat, ms: number): number {
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(ms)) p[x.type] = Number(x.value);
  return (
    (Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!, p['second']!) - ms) / 1000
  );
}

/** A TZif v2 file with the given 64-bit transitions, offsets (type i = offsets[i]) and footer. */
function tzif(transitions: [number, number][], offsets: number[], footer: string): Buffer {
  const header = (version: string, time: number, type: number) => {
    const b = Buffer.alloc(44);
    b.write('TZif', 0, 'latin1');
    b.write(version, 4, 'latin1');
    [0, 0, 0, time, type, 4].forEach((n, i) => {
      b.writeUInt32BE(n, 20 + 4 * i);
    });
    return b;
  };
  const types = Buffer.concat(
    offsets.map((o) => {
      const t = Buffer.alloc(6);
      t.writeInt32BE(o, 0);
      return t;
    }),
  );
  const v1 = Buffer.concat([header('2', 0, offsets.length), types, Buffer.from('XXX\0', 'latin1')]);
  const times = Buffer.alloc(8 * transitions.length);
  transitions.forEach(([t], i) => {
    times.writeBigInt64BE(BigInt(t), 8 * i);
  });
  return Buffer.concat([
    v1,
    header('2', transitions.length, offsets.length),
    times,
    Buffer.from(transitions.map(([, type]) => type)),
    types,
    Buffer.from('XXX\0', 'latin1'),
    Buffer.from(`\n${footer}\n`, 'latin1'),
  ]);
}

describe('zone offsets from TZif files', () => {
  it.runIf(hasTzdata)(
    'match Intl for every zone the platform knows, 1990–2060 (when both have one tzdata release)',
    () => {
      const mismatches: string[] = [];
      const until = comparedUntilMs();
      for (const zone of Intl.supportedValuesOf('timeZone')) {
        const rules = readZoneRules(zone);
        if (!rules) {
          mismatches.push(`${zone}: no TZif file`);
          continue;
        }
        const f = new Intl.DateTimeFormat('en-US', {
          timeZone: zone,
          ...{ year: 'numeric', month: 'numeric', day: 'numeric' },
          ...{ hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' },
        });
        // Every ~73 days at a moving hour: over 70 years each season and both sides of most changes.
        for (let ms = Date.UTC(1990, 0, 1); ms < until; ms += 73 * 86_400_000 + 7 * 3_600_000) {
          const tzifS = rules.offsetS(ms / 1000);
          const intlS = intlOffsetS(f, ms);
          if (tzifS !== intlS)
            mismatches.push(`${zone} at ${new Date(ms).toISOString()}: ${tzifS} vs ${intlS}`);
        }
      }
      // A zone changed by a tzdata release newer than the other side's would show here: update tzdata.
      expect(mismatches).toEqual([]);
    },
  );

  it.runIf(hasTzdata)('turn at the exact second of a change, 30-minute and negative DST included', () => {
    const at = (zone: string, iso: string) => readZoneRules(zone)!.offsetS(Date.parse(iso) / 1000);
    expect(at('Europe/Paris', '2026-03-29T00:59:59Z')).toBe(H);
    expect(at('Europe/Paris', '2026-03-29T01:00:00Z')).toBe(2 * H);
    expect(at('Pacific/Chatham', '2026-04-04T13:59:59Z')).toBe(13.75 * H);
    expect(at('Pacific/Chatham', '2026-04-04T14:00:00Z')).toBe(12.75 * H);
    expect(at('Australia/Lord_Howe', '2026-10-03T15:30:00Z')).toBe(11 * H);
    expect(at('Australia/Lord_Howe', '2026-10-03T15:29:59Z')).toBe(10.5 * H);
    // Ireland's winter time is its "daylight" time in tzdata (IST-1GMT0): the offset is what counts.
    expect(at('Europe/Dublin', '2026-01-15T12:00:00Z')).toBe(0);
    expect(at('Europe/Dublin', '2026-07-15T12:00:00Z')).toBe(H);
    // Past 2037 (the last transition of a "fat" file) the footer's rule answers.
    expect(at('Europe/Paris', '2050-03-27T00:59:59Z')).toBe(H);
    expect(at('Europe/Paris', '2050-03-27T01:00:00Z')).toBe(2 * H);
  });

  it('read a "slim" file (rules in the footer only) and answer before the first transition', () => {
    const rules = parseTzif(
      tzif([[Date.UTC(1996, 9, 27, 1) / 1000, 1]], [2 * H, H], 'CET-1CEST,M3.5.0,M10.5.0/3'),
    );
    expect(rules.offsetS(0)).toBe(2 * H);
    expect(rules.offsetS(Date.UTC(2026, 2, 29, 0, 59, 59) / 1000)).toBe(H);
    expect(rules.offsetS(Date.UTC(2026, 2, 29, 1) / 1000)).toBe(2 * H);
    expect(rules.offsetS(Date.UTC(2026, 9, 25, 0, 59, 59) / 1000)).toBe(2 * H);
    expect(rules.offsetS(Date.UTC(2026, 9, 25, 1) / 1000)).toBe(H);
  });

  it('reads POSIX TZ strings as TZif footers write them, southern hemisphere and Julian days included', () => {
    const santiago = parsePosixTz('<-04>4<-03>,M9.1.6/24,M4.1.6/24');
    expect(posixOffsetS(santiago, Date.UTC(2027, 0, 15) / 1000)).toBe(-3 * H);
    expect(posixOffsetS(santiago, Date.UTC(2027, 6, 15) / 1000)).toBe(-4 * H);
    expect(parsePosixTz('<+0545>-5:45')).toEqual({ stdOffsetS: 5.75 * H });
    const julian = parsePosixTz('EST5EDT,J60/2,J300/2');
    // J60 is 1 March in every year (February 29 is never counted).
    expect(posixOffsetS(julian, Date.UTC(2028, 1, 29, 12) / 1000)).toBe(-5 * H);
    expect(posixOffsetS(julian, Date.UTC(2028, 2, 1, 12) / 1000)).toBe(-4 * H);
    expect(() => parsePosixTz('CET-1CEST,M3.5.0')).toThrow(/not a POSIX TZ string: "CET-1CEST,M3\.5\.0"/);
  });

  it('refuses what is not a TZif file or not a zone name, so that Intl answers (or refuses) instead', () => {
    const dir = tempDir('tzif');
    mkdirSync(join(dir, 'Europe'));
    writeFileSync(join(dir, 'Europe', 'Lyon'), 'not a zone');
    writeFileSync(join(dir, 'posixrules'), tzif([], [H], 'CET-1'));
    expect(readZoneRules('Europe/Lyon', dir)).toBeUndefined();
    expect(readZoneRules('Europe/Nowhere', dir)).toBeUndefined();
    expect(readZoneRules('posixrules', dir)).toBeUndefined();
    expect(readZoneRules('../etc/passwd', dir)).toBeUndefined();
    expect(() => parseTzif(Buffer.from('TZif2'))).toThrow(/not a TZif file/);
  });
});

describe('shared/local-time without ICU', () => {
  const RealDateTimeFormat = Intl.DateTimeFormat;
  afterEach(() => {
    Intl.DateTimeFormat = RealDateTimeFormat;
  });

  it.runIf(hasTzdata)(
    'reads school hours for a zone with a TZif file without creating an Intl formatter',
    () => {
      let created = 0;
      Intl.DateTimeFormat = new Proxy(RealDateTimeFormat, {
        construct(target, args, newTarget) {
          created++;
          return Reflect.construct(target, args, newTarget);
        },
      });
      const zone = 'America/Santiago';
      expect(localTime(Date.UTC(2026, 0, 15, 12), zone)).toEqual({
        date: '2026-01-15',
        weekday: 'thu',
        minute: 9 * 60,
      });
      expect(zoneOffsetMs(Date.UTC(2026, 6, 15), zone)).toBe(-4 * H * 1000);
      expect(nextOffsetChange(Date.UTC(2026, 2, 1), Date.UTC(2026, 4, 1), zone)).toBe(
        Date.UTC(2026, 3, 5, 3),
      );
      expect(created).toBe(0);
    },
  );

  it('still knows a zone the system has no file for through Intl, and refuses an unknown one', () => {
    expect(zoneOffsetMs(Date.UTC(2026, 6, 1), 'europe/paris')).toBe(2 * H * 1000);
    expect(() => zoneOffsetMs(0, 'Europe/Lyon')).toThrow(RangeError);
  });
});
