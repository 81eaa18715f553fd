// The collector's HTTP server: API, status board, /metrics and the agents' speed-test endpoints.
import Type from 'typebox';
import { SPEEDTEST_MAX_BYTES } from '../../shared/speedtest-limits.ts';
import { UAI_PATTERN } from '../../shared/uai.ts';

export const SpeedtestHttpConfig = Type.Object(
  {
    /**
     * Key from which every school's speed-test token is derived (HMAC of its UAI): the collector
     * keeps one secret, not a table; `vigie collector speedtest-token UAI` prints a school's token.
     * Absent: the speed-test endpoints are not served.
     */
    secret: Type.Optional(Type.String({ minLength: 16 })),
    /** Schools whose token no longer works (a box stolen, a token leaked) until the secret rotates. */
    revoked: Type.Array(Type.String({ pattern: UAI_PATTERN }), { default: [] }),
    /** Requests per school per window (a test is one download and one upload). */
    perSchoolMax: Type.Integer({ minimum: 1, default: 12 }),
    windowS: Type.Integer({ minimum: 1, default: 3600 }),
    /** Transfers in flight across all schools; more get 503 with Retry-After. */
    maxConcurrent: Type.Integer({ minimum: 1, default: 4 }),
    /**
     * Transfers in flight for one school; more get 429 with Retry-After. 2, not 1: an agent's upload
     * may arrive before the collector saw its download's connection close.
     */
    perSchoolConcurrent: Type.Integer({ minimum: 1, default: 2 }),
    /** Largest download served and upload accepted, bytes; a larger declared upload gets 413 at once. */
    maxBytes: Type.Integer({ minimum: 1024, default: SPEEDTEST_MAX_BYTES }),
    /** A transfer (either way) that moves no byte for this long is cut and its slot freed, seconds. */
    idleS: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 15 }),
    /**
     * A transfer is cut this long after it began, seconds. An agent measures up to 60 s, and its
     * socket buffers may take half a minute more to drain over a slow uplink.
     */
    totalS: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 120 }),
  },
  { additionalProperties: false, default: {} },
);

export const HttpAuthConfig = Type.Object(
  {
    /** Bearer tokens that may read (wall screens, scripts). The admin token reads too. */
    readTokens: Type.Array(Type.String({ minLength: 16 }), { default: [] }),
    /** Networks that may read without a token (CIDR). */
    allowNetworks: Type.Array(Type.String({ minLength: 2 }), { default: ['127.0.0.0/8', '::1/128'] }),
    /** Needed for every write (silences, maintenance windows). Absent: writes are refused. */
    adminToken: Type.Optional(Type.String({ minLength: 16 })),
  },
  { additionalProperties: false, default: {} },
);

/** How long a client may take to send its request; node and fastify have no limit by default. */
export const HttpTimeoutsConfig = Type.Object(
  {
    /** Request line and headers, seconds (node `headersTimeout`). */
    headersS: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 15 }),
    /** A request body (silences, maintenance windows: a few hundred bytes), seconds; the speed-test upload has `speedtest.totalS`. */
    bodyS: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 30 }),
    /**
     * A connection on which no byte moves either way is closed, seconds (node `server.timeout`). Above
     * the live board's 15 s heartbeat, and longer than `queryTimeoutMs` (checked at start).
     */
    idleS: Type.Number({ minimum: 20, maximum: 3600, default: 60 }),
  },
  { additionalProperties: false, default: {} },
);

/** Wrong tokens (API or speed test) from one client address. */
export const AuthThrottleConfig = Type.Object(
  {
    /** Refused tokens from one address within windowS before it gets 429 until the window ends. */
    maxFailures: Type.Integer({ minimum: 1, default: 10 }),
    windowS: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
  },
  { additionalProperties: false, default: {} },
);

export const BoardConfig = Type.Object(
  {
    title: Type.String({ default: 'Vigie' }),
    language: Type.Union([Type.Literal('fr'), Type.Literal('en')], { default: 'fr' }),
    /** Link of a school's tile, `{uai}` replaced, e.g. https://grafana.example/d/vigie-school?var-uai={uai} */
    grafanaSchoolUrl: Type.Optional(Type.String({ pattern: '\\{uai\\}' })),
    /** How often the board polls when the live stream is unavailable. */
    pollS: Type.Integer({ minimum: 2, maximum: 600, default: 15 }),
  },
  { additionalProperties: false, default: {} },
);

export const HttpConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    /** Behind a reverse proxy: trust X-Forwarded-For from these addresses (fastify `trustProxy`). */
    trustProxy: Type.Array(Type.String(), { default: [] }),
    /** One log line per request (off: only errors), at info level. */
    logRequests: Type.Boolean({ default: false }),
    /** Live board streams at once; more get 503 and fall back to polling. */
    maxStreams: Type.Integer({ minimum: 1, maximum: 10_000, default: 200 }),
    /** Window of `/api/schools/:uai` history when the request does not say. */
    historyHours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 31, default: 24 }),
    /** Timeout of InfluxDB queries and of the readiness checks. */
    queryTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
    /** Where silences and maintenance windows created through the API are kept; absent: `mute-windows.json` in `wal.dir`. */
    windowsFile: Type.Optional(Type.String({ minLength: 1 })),
    maxWindows: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
    auth: HttpAuthConfig,
    timeouts: HttpTimeoutsConfig,
    authThrottle: AuthThrottleConfig,
    board: BoardConfig,
    speedtest: SpeedtestHttpConfig,
  },
  { additionalProperties: false, default: {} },
);
export type HttpConfig = Type.Static<typeof HttpConfig>;
export type HttpAuthConfig = Type.Static<typeof HttpAuthConfig>;
export type BoardConfig = Type.Static<typeof BoardConfig>;
export type SpeedtestHttpConfig = Type.Static<typeof SpeedtestHttpConfig>;
export type HttpTimeoutsConfig = Type.Static<typeof HttpTimeoutsConfig>;
