// Hostile MQTT messages from one school, from a seeded PRNG so a failing run can be replayed: nesting
// too deep, arrays too wide, wrong types, odd and broken text, truncated JSON, random bytes, clocks
// out of bounds, random mutations of valid messages, bad topics, and some valid messages among them.
import { MAX_PAYLOAD_BYTES } from '../../shared/schemas.ts';
import { everySample, makeBatch } from './collector.ts';

export const POISON_KINDS = [
  'deep',
  'wide',
  'oversize',
  'wrong_type',
  'odd_text',
  'lone_surrogate',
  'bad_utf8',
  'truncated',
  'binary',
  'clock',
  'mutated',
  'bad_topic',
  'valid',
] as const;
export type PoisonKind = (typeof POISON_KINDS)[number];

export interface PoisonMessage {
  kind: PoisonKind;
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** mulberry32: small, fast, and the same sequence on every machine for a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type TopicKind = 'metrics' | 'status' | 'events';
/** What the collector accepts per topic kind (shared/validate.ts). */
const LIMIT: Record<TopicKind, number> = { metrics: MAX_PAYLOAD_BYTES, status: 4096, events: 16 * 1024 };
const DAY = 86_400_000;
const YEAR = 365 * DAY;

const WRONG_VALUES: unknown[] = [
  null,
  true,
  false,
  '',
  'x',
  -1,
  0,
  1.5,
  2 ** 53,
  -1e308,
  [],
  {},
  [1],
  { a: 1 },
];
const ODD_TEXT = [
  '🏫📡',
  '👩‍👩‍👧‍👦',
  'é\u0301cole',
  '\u200b\u200d\ufeff',
  '\u202eloohcs',
  'ﬁ ǅ Ⅻ',
  'a\u0000b',
  'line\nbreak',
  'tab\there',
  'quote " and \\ backslash',
  'ends with \\',
  'comma, equals= space',
  '\uffff\ufffe',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'x'.repeat(200),
];
const LONE = ['\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83c', '\udfebz'];
const BAD_UTF8 = [
  [0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
];
const BAD_AGENTS = ['Box', 'école', 'a'.repeat(70), '-x', 'x y', '😀', '.'];
const STRUCTURAL = Buffer.from('{}[],:"\\0123456789-.etrufanl ');

export class PoisonMaker {
  constructor(
    private readonly rand: () => number,
    private readonly uai: string,
    private readonly now: () => number,
  ) {}

  private int(min: number, max: number): number {
    return min + Math.floor(this.rand() * (max - min + 1));
  }

  /** Spread over orders of magnitude: most sizes small, a few near the top. */
  private logInt(min: number, max: number): number {
    return Math.min(max, Math.floor(min * (max / min) ** this.rand()));
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  private agent(): string {
    return this.rand() < 0.6 ? 'box' : `fuzz-${this.int(0, 9)}`;
  }

  /** A valid message of this kind, dated a day ago: far from both clock bounds, whatever a mutation does. */
  private valid(kind: TopicKind, agent: string): Record<string, unknown> {
    const t = this.now() - DAY + this.int(0, 60_000);
    if (kind === 'status')
      return { v: 1, uai: this.uai, agent, state: this.pick(['online', 'offline']), t, version: '1.2.3' };
    if (kind === 'events')
      return { v: 1, uai: this.uai, agent, t, kind: 'probe_error', message: 'dns timeout', data: { n: 1 } };
    const samples = everySample(t, `target-${this.int(0, 3)}`).slice(0, this.int(1, 7));
    return makeBatch(this.uai, agent, this.int(0, 1000), t, samples) as unknown as Record<string, unknown>;
  }

  /** Somewhere to put a value: a top-level key, or a key of the first sample. */
  private setSomewhere(msg: Record<string, unknown>, value: unknown): void {
    const samples = msg['samples'] as Record<string, unknown>[] | undefined;
    const target = samples && this.rand() < 0.6 ? samples[0]! : msg;
    const keys = Object.keys(target);
    target[this.rand() < 0.8 ? this.pick(keys) : 'extra'] = value;
  }

  /** A string field of the message, replaced by `text`. */
  private setText(msg: Record<string, unknown>, kind: TopicKind, text: string): void {
    if (kind === 'events') msg['message'] = text;
    else if (kind === 'status') msg['version'] = text;
    else {
      const s = (msg['samples'] as Record<string, unknown>[])[0]!;
      const key = Object.keys(s).find((k) => typeof s[k] === 'string' && k !== 'probe')!;
      s[key] = text;
    }
  }

  private nested(depth: number): string {
    return this.rand() < 0.5
      ? `${'['.repeat(depth)}${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`;
  }

  private wide(entries: number): string {
    const r = this.rand();
    if (r < 0.4) return `[${Array(entries).fill('0').join(',')}]`;
    if (r < 0.7) return `[${Array(entries).fill('[]').join(',')}]`;
    return `{${Array.from({ length: entries }, (_, i) => `"k${i}":0`).join(',')}}`;
  }

  /** `inner` spliced into a valid message: as an extra key, or as the first sample. */
  private splice(msg: Record<string, unknown>, inner: string): string {
    const text = JSON.stringify(msg);
    if (msg['samples'] && this.rand() < 0.5) return text.replace('"samples":[', `"samples":[${inner},`);
    return text.replace('"v":1', `"v":1,"x":${inner}`);
  }

  next(): PoisonMessage {
    const kind = this.pick(POISON_KINDS);
    // Oversize metrics (over 256 KiB) carry most of the bytes: refused unread, they weigh on memory only
    // if the collector kept them.
    const topicKind =
      kind === 'oversize' && this.rand() < 0.5
        ? this.pick(['status', 'events'] as const)
        : this.pick(['metrics', 'metrics', 'status', 'events'] as const);
    let agent = this.agent();
    const msg = this.valid(topicKind, agent);
    const limit = LIMIT[topicKind];
    let payload: Buffer;
    switch (kind) {
      case 'deep': {
        // Mostly under the size limit, so the depth is what refuses it; now and then past it.
        const room = Math.floor((this.rand() < 0.9 ? limit - JSON.stringify(msg).length - 40 : limit) / 2);
        payload = Buffer.from(this.splice(msg, this.nested(this.logInt(17, Math.max(17, room)))));
        break;
      }
      case 'wide':
        payload = Buffer.from(
          this.splice(msg, this.wide(this.logInt(4097, topicKind === 'metrics' ? 60_000 : 6000))),
        );
        break;
      case 'oversize':
        if (topicKind === 'events') msg['message'] = 'x'.repeat(this.int(limit, limit + 1000));
        else if (topicKind === 'status') msg['version'] = 'x'.repeat(this.int(limit, limit + 1000));
        else (msg as { samples: unknown[] }).samples = Array(2000).fill(everySample(msg['t'] as number)[6]);
        payload = Buffer.from(JSON.stringify(msg));
        break;
      case 'wrong_type':
        this.setSomewhere(msg, this.pick(WRONG_VALUES));
        payload = Buffer.from(JSON.stringify(msg));
        break;
      case 'odd_text':
        this.setText(msg, topicKind, this.pick(ODD_TEXT));
        payload = Buffer.from(JSON.stringify(msg));
        break;
      case 'lone_surrogate': {
        this.setText(msg, topicKind, this.pick(LONE));
        // JSON.stringify writes a lone surrogate as an escape (\ud800); sent as the raw code unit
        // instead, UTF-8 encoding turns it into U+FFFD.
        const text = JSON.stringify(msg);
        const raw = text.replace(/\\u(d[89a-f][0-9a-f]{2})/g, (_, hex: string) =>
          String.fromCharCode(Number.parseInt(hex, 16)),
        );
        payload = Buffer.from(this.rand() < 0.8 ? text : raw);
        break;
      }
      case 'bad_utf8': {
        this.setText(msg, topicKind, 'SPLICE');
        const [before, after] = JSON.stringify(msg).split('SPLICE') as [string, string];
        payload = Buffer.concat([Buffer.from(before), Buffer.from(this.pick(BAD_UTF8)), Buffer.from(after)]);
        break;
      }
      case 'truncated': {
        const text = Buffer.from(JSON.stringify(msg));
        payload = text.subarray(0, this.int(0, text.length - 1));
        break;
      }
      case 'binary':
        payload = Buffer.from(Array.from({ length: this.int(0, 2048) }, () => this.int(0, 255)));
        if (this.rand() < 0.3) payload[0] = 0x7b;
        break;
      case 'clock': {
        const off = this.int(1, 20) * (this.rand() < 0.5 ? YEAR : 3600_000);
        const t = this.now() + (this.rand() < 0.6 ? off : -(off + 31 * DAY));
        if (topicKind === 'status' && this.rand() < 0.3) msg['startedAt'] = this.now() + off;
        else msg['t'] = t;
        if (msg['samples'] && this.rand() < 0.5) {
          msg['t'] = this.now() - DAY;
          (msg['samples'] as { t: number }[])[0]!.t = t;
        }
        payload = Buffer.from(JSON.stringify(msg));
        break;
      }
      case 'mutated': {
        const bytes = [...Buffer.from(JSON.stringify(msg))];
        for (let n = this.int(1, 8); n > 0; n--) {
          const at = this.int(0, bytes.length - 1);
          const op = this.rand();
          if (op < 0.3) bytes[at] = bytes[at]! ^ (1 << this.int(0, 7));
          else if (op < 0.6) bytes[at] = this.pick([...STRUCTURAL]);
          else if (op < 0.8) bytes.splice(at, 0, this.pick([...STRUCTURAL]));
          else bytes.splice(at, 1);
        }
        payload = Buffer.from(bytes);
        break;
      }
      case 'bad_topic':
        if (this.rand() < 0.5) agent = this.pick(BAD_AGENTS);
        else agent = `${agent}-other`;
        payload = Buffer.from(JSON.stringify(msg));
        break;
      case 'valid':
        payload = Buffer.from(JSON.stringify(msg));
        break;
    }
    const retain = topicKind !== 'metrics' && this.rand() < 0.15;
    return { kind, topic: `vigie/v1/${this.uai}/${agent}/${topicKind}`, payload, retain };
  }
}
