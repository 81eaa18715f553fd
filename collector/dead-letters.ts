// Refused messages: counted by reason, logged at most once per reason per minute (with how many were
// silenced), the last few kept for inspection. Never retried. Everything kept is cut short: the sender
// chooses the topic, the payload, and so what an error quotes.
import type { Logger } from '../shared/log.ts';

export interface DeadLetter {
  at: number;
  reason: string;
  error: string;
  topic?: string;
  uai?: string;
  /** Retained on the broker: it comes back, and is refused again, at each subscription. */
  retained?: boolean;
  /** The start of the payload or line, as text. */
  excerpt: string;
}

export const LOG_EVERY_MS = 60_000;
const EXCERPT_CHARS = 300;
const ERROR_CHARS = 500;
const TOPIC_CHARS = 200;

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** Pure: may this reason be logged now, given when it was last logged? */
export const shouldLog = (lastLoggedAt: number | undefined, now: number): boolean =>
  lastLoggedAt === undefined || now - lastLoggedAt >= LOG_EVERY_MS;

export class DeadLetters {
  readonly byReason: Record<string, number> = {};
  private readonly kept: DeadLetter[] = [];
  private readonly lastLogged = new Map<string, number>();
  private readonly silenced = new Map<string, number>();

  constructor(
    private readonly keep: number,
    private readonly log: Logger,
  ) {}

  get total(): number {
    return Object.values(this.byReason).reduce((a, b) => a + b, 0);
  }

  /** Oldest first. */
  recent(): DeadLetter[] {
    return [...this.kept];
  }

  /** Counts, keeps and maybe logs one refusal; long error texts and topics are cut. Never throws on input. */
  add(letter: Omit<DeadLetter, 'excerpt'> & { payload?: Buffer | string }): void {
    const { payload, ...given } = letter;
    const rest = {
      ...given,
      error: cut(given.error, ERROR_CHARS),
      ...(given.topic === undefined ? {} : { topic: cut(given.topic, TOPIC_CHARS) }),
    };
    this.byReason[letter.reason] = (this.byReason[letter.reason] ?? 0) + 1;
    const text =
      payload === undefined
        ? ''
        : typeof payload === 'string'
          ? payload
          : payload.subarray(0, EXCERPT_CHARS * 4).toString('utf8');
    if (this.keep > 0) {
      this.kept.push({ ...rest, excerpt: text.slice(0, EXCERPT_CHARS) });
      if (this.kept.length > this.keep) this.kept.shift();
    }
    if (shouldLog(this.lastLogged.get(letter.reason), letter.at)) {
      const silenced = this.silenced.get(letter.reason) ?? 0;
      this.log.warn(
        {
          reason: rest.reason,
          topic: rest.topic,
          uai: rest.uai,
          silenced,
          ...(rest.retained ? { retained: true } : {}),
        },
        `refused: ${rest.error}${rest.retained ? ' (retained on the broker: refused again at each subscription)' : ''}`,
      );
      this.lastLogged.set(letter.reason, letter.at);
      this.silenced.set(letter.reason, 0);
    } else {
      this.silenced.set(letter.reason, (this.silenced.get(letter.reason) ?? 0) + 1);
    }
  }
}
