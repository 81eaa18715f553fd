// One identity (UAI + agent id) used by two boxes at once: recognised from the agents' status messages,
// kept out of presence. Deterministic: the caller passes `now`; no timers, no I/O.
//
// Every agent process draws a random instance id at start and puts it in its birth and its will
// (shared/schemas.ts StatusMessage.instance). When a second box connects under the same client id, the
// broker closes the first connection and publishes ITS will — before the newcomer's CONNACK, so before
// its birth (measured on Mosquitto 2.0.11: will(a) then birth(b) within milliseconds). Taken at face
// value that is an outage of a few ms, every time the boxes swap: 136 transitions and 9 `power_or_box`
// outages in 75 s. So:
// - a will that carries an instance id is held `holdMs`; a birth from ANOTHER instance meanwhile proves it
//   was a takeover (the connection was replaced, not lost): the will is dropped. A will still held after
//   holdMs is a real loss and goes to presence stamped with its receive time (the outage starts then).
// - an offline status from an instance that is not the current one says nothing about the current one.
// - a birth from another instance while the current one is live is a takeover. One takeover is also what
//   a box rebooting faster than the broker's keepalive looks like; but a REPLACED instance coming back can
//   only mean both processes are alive: that alternation is a duplicate identity, told once.
// - the duplicate is over when no takeover was seen for `quietMs`, which must exceed the agents' longest
//   takeover backoff (agent mqtt.takeoverBackoffMaxS, 15 min by default): they keep swapping that often.
// - two agent ids on ONE broker account (a copied config with the agent id edited, two agents given one
//   school's credential): the stack's Mosquitto makes the account name the client id
//   (use_username_as_clientid), so they take the connection from each other the same way, under two
//   identities. A school may run several agents, each with its own client id: they never do that. What
//   only a shared client id produces is the takeover itself — one agent's will, then within
//   CROSS_TAKEOVER_MS another agent's birth, that agent's own connection not just lost (a router reboot
//   drops both: each has its own will before its birth) — and, since one such pair may be a coincidence,
//   the conflict is told once the replaced agent came back the same way, after
//   ACCOUNT_TAKEOVERS takeovers. Such a will is dropped like a takeover's: the school, online through the
//   newcomer, shows no outage and no flapping; an agent that is really gone is caught by silence.
// Messages without an instance id (older agents, the simulator) pass through untouched.
import type { StatusMessage } from '../../shared/schemas.ts';

export interface IdentityRules {
  /** How long a will is held waiting for a takeover's birth, ms. */
  holdMs: number;
  /** No takeover for this long ends a duplicate (and forgets replaced instances), ms. */
  quietMs: number;
  /** Identities tracked, at most (the presence bound on agents). */
  maxAgents: number;
}

/** A status message to hand to presence, and the collector time it counts at. */
export interface StatusToApply {
  msg: StatusMessage;
  retained: boolean;
  at: number;
}

export type IdentityEffect =
  | {
      kind: 'duplicate_identity';
      uai: string;
      agent: string;
      /** true: detected now; false: no takeover for quietMs, over. */
      duplicated: boolean;
      /** The instance ids seen fighting (newest last), at most MAX_REPLACED + 1. */
      instances: string[];
      /** Two agent ids on one broker account: the agent ids fighting (`agent` then joins them with +). */
      agents?: string[];
      /** Takeovers counted in this episode. */
      takeovers: number;
      /** Detected: the first takeover of the episode; over: now. */
      since: number;
      at: number;
    }
  | { kind: 'takeover'; uai: string; agent: string; from: string; to: string; at: number };

interface Identity {
  uai: string;
  agent: string;
  /** The instance of the last birth, and whether it is still connected as far as we know. */
  current: string | null;
  live: boolean;
  /** A will held for holdMs. */
  held: StatusToApply | null;
  /** Instances replaced by a takeover within quietMs → when. Bounded (MAX_REPLACED). */
  replaced: Map<string, number>;
  firstTakeoverAt: number | null;
  lastTakeoverAt: number | null;
  takeovers: number;
  duplicateSince: number | null;
}

/** Replaced instances remembered per identity: two boxes need one; a handful covers three or four. */
const MAX_REPLACED = 8;

/**
 * A will, then another agent's birth of the same school within this (ms), is one connection taken over
 * by the other: the broker publishes the will just before it accepts the newcomer (milliseconds apart on
 * Mosquitto 2.0.11); 2 s leaves room for a loaded collector.
 */
export const CROSS_TAKEOVER_MS = 2000;
/**
 * Takeovers between agent ids of one school before the shared account is told: two real agents make at
 * least five before both back off (agent/takeover.ts: three clean closes each); a coincidence, one.
 */
export const ACCOUNT_TAKEOVERS = 3;

/** One school's broker account, when two of its agent ids were seen taking the connection from each other. */
interface Account {
  uai: string;
  /** Agent ids replaced by another agent id's takeover → when. Bounded (MAX_REPLACED). */
  replaced: Map<string, number>;
  firstTakeoverAt: number | null;
  lastTakeoverAt: number | null;
  takeovers: number;
  duplicateSince: number | null;
  /** The agents told in the alert, so that its end names the same ones. */
  told: string[];
}

export interface IdentityStep {
  apply: StatusToApply[];
  effects: IdentityEffect[];
}

export class IdentityGuard {
  private readonly ids = new Map<string, Identity>();
  /** Per school: takeovers between its agent ids (one broker account shared). */
  private readonly accounts = new Map<string, Account>();
  /** Identities not tracked because maxAgents was reached: their messages pass untouched. */
  untracked = 0;

  constructor(private readonly rules: IdentityRules) {}

  /** Identities currently judged duplicated; an account shared by agent ids as those ids joined with +. */
  duplicates(): { uai: string; agent: string; since: number }[] {
    const accounts = [...this.accounts.values()]
      .filter((a) => a.duplicateSince !== null)
      .map((a) => ({ uai: a.uai, agent: a.told.join('+'), since: a.duplicateSince! }));
    return [
      ...[...this.ids.values()]
        .filter((i) => i.duplicateSince !== null)
        .map((i) => ({ uai: i.uai, agent: i.agent, since: i.duplicateSince! })),
      ...accounts,
    ];
  }

  /**
   * After a collector restart: an identity a previous run alerted on is taken as duplicated since `since`,
   * so its alert ends like any other (quietMs without a takeover) instead of staying open forever.
   */
  assumeDuplicate(uai: string, agent: string, since: number, now: number): void {
    const id = this.get(uai, agent);
    if (!id || id.duplicateSince !== null) return;
    id.duplicateSince = since;
    id.firstTakeoverAt = since;
    id.lastTakeoverAt = now;
  }

  /** One status message as received. Returns what presence should apply now, and what to tell. */
  status(msg: StatusMessage, retained: boolean, now: number): IdentityStep {
    const instance = msg.instance;
    const id = instance === undefined ? undefined : this.get(msg.uai, msg.agent);
    if (!id || instance === undefined) return { apply: [{ msg, retained, at: now }], effects: [] };
    // Retained: the broker's memory of an earlier connection, replayed at subscribe. It sets the record
    // straight and is no evidence of a fight.
    if (retained) {
      id.current = instance;
      id.live = msg.state === 'online';
      return { apply: [{ msg, retained, at: now }], effects: [] };
    }
    if (msg.state === 'offline') {
      if (id.current !== null && instance !== id.current) return { apply: [], effects: [] };
      if (msg.reason === 'will') {
        // A newer will replaces an older one still held: that one was never followed by a birth either.
        const out = id.held ? [id.held] : [];
        id.held = { msg, retained, at: now };
        return { apply: out, effects: [] };
      }
      id.live = false;
      id.held = null;
      return { apply: [{ msg, retained, at: now }], effects: [] };
    }
    return this.birth(id, msg, instance, now);
  }

  private birth(id: Identity, msg: StatusMessage, instance: string, now: number): IdentityStep {
    const apply: StatusToApply[] = [];
    const effects: IdentityEffect[] = [];
    const previous = id.current;
    const heldFromPrevious = id.held !== null && id.held.msg.instance === previous;
    // Its own connection was just lost too (a will of its own pending): a reconnect, not a takeover.
    const justLostItsOwn = id.held !== null;
    const tookOver = previous !== null && previous !== instance && (id.live || heldFromPrevious);
    if (id.held && !(tookOver && heldFromPrevious)) apply.push(id.held);
    id.held = null;
    if (tookOver) {
      id.takeovers++;
      id.firstTakeoverAt ??= now;
      id.lastTakeoverAt = now;
      effects.push({ kind: 'takeover', uai: id.uai, agent: id.agent, from: previous, to: instance, at: now });
      const cameBack = id.replaced.has(instance);
      id.replaced.delete(instance);
      id.replaced.set(previous, now);
      if (id.replaced.size > MAX_REPLACED) id.replaced.delete(id.replaced.keys().next().value!);
      if (cameBack && id.duplicateSince === null) {
        id.duplicateSince = id.firstTakeoverAt;
        effects.push({
          kind: 'duplicate_identity',
          uai: id.uai,
          agent: id.agent,
          duplicated: true,
          instances: [...id.replaced.keys(), instance],
          takeovers: id.takeovers,
          since: id.duplicateSince,
          at: now,
        });
      }
    }
    id.current = instance;
    id.live = true;
    apply.push({ msg, retained: false, at: now });
    if (!justLostItsOwn) effects.push(...this.accountTakeover(id, now));
    return { apply, effects };
  }

  /**
   * A birth of `id` (whose own connection was not just lost) just after another agent id of its school
   * lost its connection: that one was taken over through a shared broker account. When both lost theirs
   * (a router reboot), each has its own will before its birth: no takeover. Its will is dropped (presence keeps it as it was); the account
   * is told once the agents alternated (see the header).
   */
  private accountTakeover(id: Identity, now: number): IdentityEffect[] {
    let replaced: Identity | undefined;
    for (const other of this.ids.values())
      if (
        other.uai === id.uai &&
        other.agent !== id.agent &&
        other.held !== null &&
        other.held.msg.instance === other.current &&
        now - other.held.at <= CROSS_TAKEOVER_MS
      )
        replaced = other;
    if (!replaced) return [];
    replaced.held = null;
    replaced.live = false;
    const account = this.account(id.uai);
    if (!account) return [];
    account.takeovers++;
    account.firstTakeoverAt ??= now;
    account.lastTakeoverAt = now;
    const cameBack = account.replaced.has(id.agent);
    account.replaced.delete(id.agent);
    account.replaced.set(replaced.agent, now);
    if (account.replaced.size > MAX_REPLACED) account.replaced.delete(account.replaced.keys().next().value!);
    if (!cameBack || account.takeovers < ACCOUNT_TAKEOVERS || account.duplicateSince !== null) return [];
    account.duplicateSince = account.firstTakeoverAt;
    account.told = [...new Set([...account.replaced.keys(), id.agent])].sort();
    return [this.accountEffect(account, true, now)];
  }

  private accountEffect(a: Account, duplicated: boolean, now: number): IdentityEffect {
    return {
      kind: 'duplicate_identity',
      uai: a.uai,
      agent: a.told.join('+'),
      duplicated,
      instances: [],
      agents: a.told,
      takeovers: a.takeovers,
      since: duplicated ? a.duplicateSince! : now,
      at: now,
    };
  }

  private account(uai: string): Account | undefined {
    let a = this.accounts.get(uai);
    if (!a) {
      if (this.accounts.size >= this.rules.maxAgents) {
        this.untracked++;
        return undefined;
      }
      a = {
        uai,
        replaced: new Map(),
        firstTakeoverAt: null,
        lastTakeoverAt: null,
        takeovers: 0,
        duplicateSince: null,
        told: [],
      };
      this.accounts.set(uai, a);
    }
    return a;
  }

  /** Time passes: wills held past holdMs go to presence; duplicates quiet for quietMs are over. */
  tick(now: number): IdentityStep {
    const apply: StatusToApply[] = [];
    const effects: IdentityEffect[] = [];
    for (const id of this.ids.values()) {
      if (id.held && now - id.held.at >= this.rules.holdMs) {
        apply.push(id.held);
        id.held = null;
        id.live = false;
      }
      if (id.lastTakeoverAt === null || now - id.lastTakeoverAt < this.rules.quietMs) continue;
      if (id.duplicateSince !== null)
        effects.push({
          kind: 'duplicate_identity',
          uai: id.uai,
          agent: id.agent,
          duplicated: false,
          instances: [...id.replaced.keys(), ...(id.current ? [id.current] : [])],
          takeovers: id.takeovers,
          since: id.duplicateSince,
          at: now,
        });
      id.replaced.clear();
      id.firstTakeoverAt = null;
      id.lastTakeoverAt = null;
      id.takeovers = 0;
      id.duplicateSince = null;
    }
    for (const [uai, a] of this.accounts) {
      if (a.lastTakeoverAt === null || now - a.lastTakeoverAt < this.rules.quietMs) continue;
      if (a.duplicateSince !== null) effects.push(this.accountEffect(a, false, now));
      this.accounts.delete(uai);
    }
    return { apply, effects };
  }

  private get(uai: string, agent: string): Identity | undefined {
    const key = `${uai}/${agent}`;
    let id = this.ids.get(key);
    if (!id) {
      if (this.ids.size >= this.rules.maxAgents) {
        this.untracked++;
        return undefined;
      }
      id = {
        uai,
        agent,
        current: null,
        live: false,
        held: null,
        replaced: new Map(),
        firstTakeoverAt: null,
        lastTakeoverAt: null,
        takeovers: 0,
        duplicateSince: null,
      };
      this.ids.set(key, id);
    }
    return id;
  }
}
