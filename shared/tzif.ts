// A zone's UTC offsets read from the system's tz database (TZif files, RFC 8536, as under
// /usr/share/zoneinfo: what glibc and `TZ=` use, kept current by the OS's tzdata updates).
//
// Why own code: the agent's one Intl.DateTimeFormat with a timeZone paged in ~8 MiB of ICU locale
// and zone data (RSS of a bare Node 51.6 MiB with it, 41.2 without; bench/agent-footprint). Measured
// the same way, the libraries with their own data cost: timezone-support fed moment-timezone's
// current data +3.0 MiB RSS and +712 kB of bundle (the agent bundle's cap is 2 MiB), moment-timezone
// +5.5 MiB and +800 kB; their year-range subsets are stale or wrong past their last year. No
// maintained TZif parser is published on npm. Reading the one zone's file costs ~0 of both.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One zone's offsets: `offsetS(t)` is its offset from UTC in seconds at `t` seconds since the epoch. */
export interface ZoneRules {
  offsetS(t: number): number;
}

/** A POSIX TZ rule date: Mm.w.d (`month` 1-12, `week` 1-5 with 5 the last, `day` 0 = Sunday), Jn or n. */
type RuleDate =
  | { kind: 'M'; month: number; week: number; day: number; timeS: number }
  | { kind: 'J' | 'n'; n: number; timeS: number };

interface PosixTz {
  stdOffsetS: number;
  dst?: { offsetS: number; start: RuleDate; end: RuleDate };
}

const DAY_S = 86_400;

/** Directory of the TZif files: $TZDIR as glibc reads it, else the usual place. */
export function zoneinfoDir(): string {
  return process.env['TZDIR'] || '/usr/share/zoneinfo';
}

// Names Intl refuses that the folder also holds (copies in other formats, aliases of the machine's
// own zone): refused here too, so a zone is valid or not whichever reader answers.
const NOT_A_ZONE =
  /^(posix|right)\/|^(posixrules|localtime|Factory|leapseconds|tzdata\.zi|zone\.tab|zone1970\.tab|iso3166\.tab|leap-seconds\.list|SECURITY)$/;
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/**
 * The rules of `timeZone` read from its TZif file under zoneinfoDir(), or undefined when the name is
 * not a plain zone name, there is no such file, or it is not a TZif file (the caller then asks Intl).
 */
export function readZoneRules(timeZone: string, dir = zoneinfoDir()): ZoneRules | undefined {
  if (!ZONE_NAME.test(timeZone) || NOT_A_ZONE.test(timeZone)) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(dir, timeZone));
  } catch {
    return undefined;
  }
  try {
    return parseTzif(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Parses a TZif file (versions 1 to 4). Uses the 64-bit block and the footer's TZ string when present.
 * @throws Error when `bytes` is not a well-formed TZif file
 */
export function parseTzif(bytes: Buffer): ZoneRules {
  const header = (at: number) => {
    if (bytes.length < at + 44 || bytes.toString('latin1', at, at + 4) !== 'TZif')
      throw new Error('not a TZif file');
    const n = (i: number) => bytes.readUInt32BE(at + 20 + 4 * i);
    return {
      version: bytes[at + 4]!,
      isut: n(0),
      isstd: n(1),
      leap: n(2),
      time: n(3),
      type: n(4),
      char: n(5),
    };
  };
  const v1 = header(0);
  const v1Size = v1.time * 5 + v1.type * 6 + v1.char + v1.leap * 8 + v1.isstd + v1.isut;
  const wide = v1.version >= 0x32; // '2' and later: a second header, 64-bit times, a footer
  const at = wide ? 44 + v1Size : 0;
  const h = wide ? header(at) : v1;
  const timeSize = wide ? 8 : 4;
  let p = at + 44;
  const end = p + h.time * (timeSize + 1) + h.type * 6 + h.char + h.leap * (timeSize + 4) + h.isstd + h.isut;
  if (bytes.length < end || h.type === 0) throw new Error('truncated TZif file');
  const transitions: number[] = [];
  for (let i = 0; i < h.time; i++, p += timeSize)
    transitions.push(wide ? Number(bytes.readBigInt64BE(p)) : bytes.readInt32BE(p));
  const typeOf = [...bytes.subarray(p, p + h.time)];
  p += h.time;
  const offsets: number[] = [];
  for (let i = 0; i < h.type; i++, p += 6) offsets.push(bytes.readInt32BE(p));
  if (typeOf.some((t) => t >= h.type)) throw new Error('TZif transition to an unknown type');
  let footer: PosixTz | undefined;
  if (wide) {
    const text = bytes.toString('latin1', end, bytes.length);
    const m = /^\n([^\n]*)\n/.exec(text);
    if (m?.[1]) footer = parsePosixTz(m[1]);
  }
  const last = transitions.length - 1;
  return {
    offsetS(t: number): number {
      // RFC 8536 3.2: before the first transition, time type 0; after the last, the footer's rule.
      if (last < 0 || t < transitions[0]!) return footer && last < 0 ? posixOffsetS(footer, t) : offsets[0]!;
      if (t >= transitions[last]! && footer) return posixOffsetS(footer, t);
      let lo = 0;
      let hi = last;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (transitions[mid]! <= t) lo = mid;
        else hi = mid - 1;
      }
      return offsets[typeOf[lo]!]!;
    },
  };
}

/**
 * Parses a POSIX TZ string as TZif footers write it (`CET-1CEST,M3.5.0,M10.5.0/3`, `<+0545>-5:45`,
 * `<-03>3<-02>,M3.2.0,M11.1.0`), with RFC 8536's extensions (hours up to ±167 in rule times).
 * @throws Error naming the string when it is not one
 */
export function parsePosixTz(tz: string): PosixTz {
  let i = 0;
  const fail = (): never => {
    throw new Error(`not a POSIX TZ string: ${JSON.stringify(tz)}`);
  };
  const name = () => {
    if (tz[i] === '<') {
      const close = tz.indexOf('>', i);
      if (close < 0) fail();
      i = close + 1;
      return;
    }
    const start = i;
    while (i < tz.length && /[A-Za-z]/.test(tz[i]!)) i++;
    if (i - start < 3) fail();
  };
  const time = (): number => {
    const m = /^([+-]?)(\d{1,3})(?::(\d{1,2}))?(?::(\d{1,2}))?/.exec(tz.slice(i));
    if (!m) return fail();
    i += m[0].length;
    const s = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    return m[1] === '-' ? -s : s;
  };
  const date = (): RuleDate => {
    let d: RuleDate;
    const m = /^M(\d{1,2})\.(\d)\.(\d)/.exec(tz.slice(i));
    if (m) {
      i += m[0].length;
      d = { kind: 'M', month: Number(m[1]), week: Number(m[2]), day: Number(m[3]), timeS: 7200 };
    } else {
      const j = /^(J?)(\d{1,3})/.exec(tz.slice(i));
      if (!j) return fail();
      i += j[0].length;
      d = { kind: j[1] ? 'J' : 'n', n: Number(j[2]), timeS: 7200 };
    }
    if (tz[i] === '/') {
      i++;
      d.timeS = time();
    }
    return d;
  };
  name();
  // POSIX offsets count west of Greenwich: CET-1 is UTC+1.
  const stdOffsetS = -time();
  if (i === tz.length) return { stdOffsetS };
  name();
  const dstOffsetS = i < tz.length && tz[i] !== ',' ? -time() : stdOffsetS + 3600;
  if (tz[i] !== ',') return fail();
  i++;
  const start = date();
  if (tz[i] !== ',') return fail();
  i++;
  const end = date();
  if (i !== tz.length) fail();
  return { stdOffsetS, dst: { offsetS: dstOffsetS, start, end } };
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Seconds since the epoch of local midnight (as UTC) of a rule's day in `year`. */
function ruleDayS(d: RuleDate, year: number): number {
  const jan1 = Date.UTC(year, 0, 1) / 1000;
  if (d.kind !== 'M')
    return jan1 + (d.kind === 'n' ? d.n : d.n - 1 + (isLeap(year) && d.n >= 60 ? 1 : 0)) * DAY_S;
  const first = Date.UTC(year, d.month - 1, 1) / 1000;
  const firstDow = new Date(first * 1000).getUTCDay();
  let day = 1 + ((d.day - firstDow + 7) % 7) + (d.week - 1) * 7;
  const monthDays = new Date(Date.UTC(year, d.month, 0)).getUTCDate();
  while (day > monthDays) day -= 7;
  return first + (day - 1) * DAY_S;
}

/** Offset in seconds at `t` under a POSIX TZ rule. */
export function posixOffsetS(tz: PosixTz, t: number): number {
  const { dst } = tz;
  if (!dst) return tz.stdOffsetS;
  const year = new Date((t + tz.stdOffsetS) * 1000).getUTCFullYear();
  // Start is read on the standard clock, end on the daylight clock (POSIX).
  const start = ruleDayS(dst.start, year) + dst.start.timeS - tz.stdOffsetS;
  const end = ruleDayS(dst.end, year) + dst.end.timeS - dst.offsetS;
  const inDst = start < end ? t >= start && t < end : !(t >= end && t < start);
  return inDst ? dst.offsetS : tz.stdOffsetS;
}
