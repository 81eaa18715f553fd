// The `agent.probes:` section of the config file: one sub-section per probe, every key defaulted so
// that `probes: {}` gives a useful schedule against local targets (ping the default gateway, count the
// default-route interface, watch the agent itself); DNS, HTTP, Wi-Fi and speed-test targets are
// site-specific and start empty.
import { Ajv } from 'ajv';
import Type, { type TSchema } from 'typebox';
import type { ProbeKind } from '../../shared/schemas.ts';
import { DEFAULT_TIMEZONE } from '../../shared/school-hours.ts';
import { HolidayCalendarsConfig, HoursProfileConfig } from '../../shared/school-hours-config.ts';
import { SPEEDTEST_MAX_BYTES } from '../../shared/speedtest-limits.ts';

/** Keys every probe section shares: how the runtime schedules it. */
function scheduling(defaults: { enabled?: boolean; intervalS: number; timeoutS: number }) {
  return {
    enabled: Type.Boolean({ default: defaults.enabled ?? true }),
    intervalS: Type.Number({ minimum: 1, maximum: 86_400, default: defaults.intervalS }),
    timeoutS: Type.Number({
      minimum: 1,
      maximum: 3600,
      default: defaults.timeoutS,
      description: 'the runtime cuts a round after this; keep it under intervalS',
    }),
    jitter: Type.Number({
      minimum: 0,
      maximum: 0.5,
      default: 0.1,
      description: 'each start is shifted at random by up to this fraction of intervalS',
    }),
  };
}

const Role = Type.Union(
  [
    Type.Literal('gateway'),
    Type.Literal('resolver'),
    Type.Literal('anchor'),
    Type.Literal('ent'),
    Type.Literal('other'),
  ],
  { default: 'other' },
);

export const PingTarget = Type.Object(
  {
    /** Host name or address; `gateway` = this box's default IPv4 gateway, looked up each round. */
    host: Type.String({ minLength: 1, maxLength: 253 }),
    /** The `target` tag; defaults to host. */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    role: Role,
  },
  { additionalProperties: false },
);

export const PingConfig = Type.Object(
  {
    ...scheduling({ intervalS: 60, timeoutS: 30 }),
    targets: Type.Array(PingTarget, {
      maxItems: 64,
      default: [{ host: 'gateway', role: 'gateway' }],
    }),
    count: Type.Integer({ minimum: 10, maximum: 100, default: 10, description: 'echoes per round' }),
    /** Unprivileged Linux ping refuses intervals under 200 ms. */
    echoIntervalMs: Type.Integer({ minimum: 200, maximum: 5000, default: 500 }),
    /** How long to wait for the last echo once all are sent. */
    echoTimeoutS: Type.Integer({ minimum: 1, maximum: 30, default: 2 }),
    /** Targets pinged at the same time (each is one system ping process). */
    concurrency: Type.Integer({ minimum: 1, maximum: 16, default: 4 }),
  },
  { additionalProperties: false, default: {} },
);

export const DnsQuery = Type.Object(
  {
    /** `system` = the servers of /etc/resolv.conf; else an address, optionally `addr:port` or `[v6]:port`. */
    resolver: Type.String({ minLength: 1, maxLength: 128, default: 'system' }),
    name: Type.String({ minLength: 1, maxLength: 253 }),
    type: Type.Union([Type.Literal('A'), Type.Literal('AAAA'), Type.Literal('MX'), Type.Literal('TXT')], {
      default: 'A',
    }),
  },
  { additionalProperties: false },
);

export const DnsConfig = Type.Object(
  {
    ...scheduling({ intervalS: 60, timeoutS: 15 }),
    /** No default: only the installer knows a name worth resolving (the ENT's, say). */
    queries: Type.Array(DnsQuery, { maxItems: 64, default: [] }),
    /** Per query; one try, so a lost packet shows as a TIMEOUT instead of a slow answer. */
    queryTimeoutS: Type.Number({ minimum: 0.1, maximum: 30, default: 5 }),
  },
  { additionalProperties: false, default: {} },
);

export const HttpTarget = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    method: Type.Union([Type.Literal('GET'), Type.Literal('HEAD')], { default: 'GET' }),
    /** Statuses that count as up; default 200–399. */
    okStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 999 }), { maxItems: 32 })),
    /** PEM file of an extra CA to trust (a private ENT). */
    ca: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const HttpConfig = Type.Object(
  {
    ...scheduling({ intervalS: 120, timeoutS: 30 }),
    targets: Type.Array(HttpTarget, { maxItems: 64, default: [] }),
    requestTimeoutS: Type.Number({ minimum: 1, maximum: 120, default: 15 }),
    /** Bytes of body read at most; the rest is discarded unread. */
    maxBodyBytes: Type.Integer({ minimum: 0, default: 1024 * 1024 }),
  },
  { additionalProperties: false, default: {} },
);

export const SnmpTarget = {
  host: Type.String({ minLength: 1, maxLength: 253 }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 161 }),
  community: Type.String({ minLength: 1, default: 'public' }),
  version: Type.Union([Type.Literal('1'), Type.Literal('2c')], { default: '2c' }),
};

export const WanRouter = Type.Object(
  {
    ...SnmpTarget,
    /** Uplink interfaces by ifName/ifDescr or ifIndex. */
    interfaces: Type.Array(Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 1 })]), {
      minItems: 1,
      maxItems: 16,
    }),
    /** Prefix of the `iface` tag, to tell routers apart; default the host. */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const WanConfig = Type.Object(
  {
    ...scheduling({ intervalS: 30, timeoutS: 10 }),
    /** Box interfaces to count; `default` = the interface of the default IPv4 route. */
    interfaces: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      maxItems: 16,
      default: ['default'],
    }),
    routers: Type.Array(WanRouter, { maxItems: 8, default: [] }),
    /**
     * Bound on the rate a 32-bit counter wrap may imply when the interface speed and the contract
     * say nothing tighter; above it the counter was reset. 64-bit counters going back are always a reset.
     */
    maxMbps: Type.Number({ minimum: 1, default: 1000 }),
  },
  { additionalProperties: false, default: {} },
);

export const AccessPoint = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    host: Type.String({ minLength: 1, maxLength: 253 }),
    /** false: reachability (ping) only, for APs without SNMP. */
    snmp: Type.Boolean({ default: true }),
    port: SnmpTarget.port,
    community: SnmpTarget.community,
    version: SnmpTarget.version,
    /** Interfaces whose ifDescr or ifName matches are the radios. */
    radioPattern: Type.String({ default: '^(wlan|wifi|ath|wl|ra|radio|wlc)[0-9]' }),
    /**
     * Associated clients: a scalar OID whose value is the count, or a table column OID whose rows are
     * counted (one row per client), e.g. a vendor's station table. Omitted: not reported.
     */
    clientsOid: Type.Optional(Type.String({ pattern: '^[0-9]+(\\.[0-9]+)+$' })),
  },
  { additionalProperties: false },
);

export const WifiConfig = Type.Object(
  {
    ...scheduling({ intervalS: 60, timeoutS: 20 }),
    accessPoints: Type.Array(AccessPoint, { maxItems: 128, default: [] }),
    /** SNMP timeout per request; one retry. */
    snmpTimeoutS: Type.Number({ minimum: 0.2, maximum: 30, default: 2 }),
    /**
     * The box's own wireless interfaces (systeminformation in a worker thread: its Linux Wi-Fi calls
     * block). Polled at most every boxEveryS, independently of intervalS.
     */
    box: Type.Boolean({ default: false }),
    boxEveryS: Type.Integer({ minimum: 60, default: 3600 }),
  },
  { additionalProperties: false, default: {} },
);

export const SpeedtestConfig = Type.Object(
  {
    ...scheduling({ intervalS: 900, timeoutS: 60 }),
    /** Base URL of the collector's speed-test endpoint (GET {url}/download, POST {url}/upload); none: off. */
    url: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2048 })),
    /** Sent as `Authorization: Bearer …` when set. */
    token: Type.Optional(Type.String()),
    /** Each direction runs this long (bounded by its byte cap). */
    durationS: Type.Number({ minimum: 2, maximum: 60, default: 10 }),
    /** The first seconds are left out of the rate: TCP slow start and the shaper's burst. */
    warmupS: Type.Number({ minimum: 0, maximum: 10, default: 1 }),
    /** Cap of each direction, bytes; the upload also stops at the limit the server announced (LIMITS_HEADER). */
    maxBytes: Type.Integer({ minimum: 1024, default: SPEEDTEST_MAX_BYTES }),
    maxPerDay: Type.Integer({ minimum: 0, maximum: 24, default: 3 }),
    minGapS: Type.Integer({ minimum: 0, default: 7200 }),
    /**
     * The school's hours profile (the registry's `hours` column; `vigie enroll` writes it when not
     * `school`): a name from the default set (`school`, `school-wednesday`) or from `profiles`.
     * Absent: `school`, the profile the collector's alerts default to.
     */
    hours: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** IANA time zone the hours and holidays are read in. */
    timezone: Type.String({ default: DEFAULT_TIMEZONE }),
    /** Profiles beside the default set, as in `collector.alerts.hours` (copy the school's from there). */
    profiles: Type.Record(Type.String(), HoursProfileConfig, { default: {} }),
    /** Holiday calendars the profiles name, as in `collector.alerts.calendars`. */
    calendars: HolidayCalendarsConfig,
    /**
     * The old form (before hours profiles), still honoured: one daily range on ISO weekdays
     * (1 = Monday), in its own time zone. Cannot be combined with `hours`.
     */
    schoolHours: Type.Optional(
      Type.Object(
        {
          days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { default: [1, 2, 4, 5] }),
          start: Type.String({ pattern: '^[0-2][0-9]:[0-5][0-9]$', default: '08:30' }),
          end: Type.String({ pattern: '^[0-2][0-9]:[0-5][0-9]$', default: '16:30' }),
          timeZone: Type.String({ default: DEFAULT_TIMEZONE }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Skip when the WAN's latest rate (either way) is above this % of the contracted bandwidth. */
    busyPct: Type.Number({ minimum: 0, maximum: 100, default: 30 }),
  },
  { additionalProperties: false, default: {} },
);

export const SelfConfig = Type.Object(
  { ...scheduling({ intervalS: 60, timeoutS: 5 }) },
  { additionalProperties: false, default: {} },
);

/** One section per probe kind (shared/schemas.ts): a kind without its section fails to compile. */
export const ProbesConfig = Type.Object(
  {
    ping: PingConfig,
    dns: DnsConfig,
    http: HttpConfig,
    wan: WanConfig,
    wifi: WifiConfig,
    speedtest: SpeedtestConfig,
    self: SelfConfig,
  } satisfies Record<ProbeKind, TSchema>,
  { additionalProperties: false, default: {} },
);

export type PingConfig = Type.Static<typeof PingConfig>;
export type PingTarget = Type.Static<typeof PingTarget>;
export type DnsConfig = Type.Static<typeof DnsConfig>;
export type DnsQuery = Type.Static<typeof DnsQuery>;
export type HttpConfig = Type.Static<typeof HttpConfig>;
export type HttpTarget = Type.Static<typeof HttpTarget>;
export type WanConfig = Type.Static<typeof WanConfig>;
export type WanRouter = Type.Static<typeof WanRouter>;
export type WifiConfig = Type.Static<typeof WifiConfig>;
export type AccessPoint = Type.Static<typeof AccessPoint>;
export type SpeedtestConfig = Type.Static<typeof SpeedtestConfig>;
export type SelfConfig = Type.Static<typeof SelfConfig>;
export type ProbesConfig = Type.Static<typeof ProbesConfig>;

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
const validateProbes = ajv.compile(ProbesConfig);

/**
 * Fills defaults into a raw `probes:` section (a copy) and validates it, for callers that did not go
 * through loadConfigFile (tests, benches). Throws with every problem listed.
 */
export function resolveProbesConfig(raw: unknown = {}): ProbesConfig {
  const data = structuredClone(raw ?? {});
  if (!validateProbes(data)) {
    const problems = (validateProbes.errors ?? []).map((e) => `probes${e.instancePath}: ${e.message}`);
    throw new Error(`invalid probes config: ${problems.join('; ')}`);
  }
  return data as ProbesConfig;
}
