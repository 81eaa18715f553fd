// Route schemas: they validate requests, shape responses and generate the OpenAPI document.
import Type from 'typebox';
import { UaiSchema } from '../../shared/schemas.ts';
import { MAX_INSTANT_MS, MAX_YEAR, MIN_INSTANT_MS, MIN_YEAR } from '../../shared/time.ts';
import { PRESENCE_STATES } from '../schema.ts';

/** `type: [T, "null"]` rather than anyOf: the serializer writes it without trying each branch. */
const Nullable = <T extends Type.TString | Type.TNumber | Type.TInteger>(t: T) =>
  Type.Unsafe<Type.Static<T> | null>({ ...t, type: [(t as { type: string }).type, 'null'] });
const Ms = (description: string) =>
  Type.Integer({ minimum: 0, description: `${description} (ms since epoch)` });

/**
 * A date-time in a request. The `date-time` format is a first sieve (and says so in the OpenAPI
 * document); the handlers read the value with shared/time.ts parseInstant, which also refuses what
 * the format lets by (a leap second, years past MAX_YEAR) and says why.
 */
const Instant = (description: string) =>
  Type.String({
    format: 'date-time',
    maxLength: 64,
    description: `${description}; RFC 3339 with Z or an offset, e.g. 2026-02-10T20:00:00+01:00, years ${MIN_YEAR}–${MAX_YEAR}`,
  });

export const State = Type.Enum(PRESENCE_STATES, {
  description: 'online; degraded: internet anchors unreachable, or loss/latency past a threshold',
});

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    message: Type.String({ description: 'what was wrong, in words' }),
  },
  { additionalProperties: false },
);

export const AgentView = Type.Object({
  agent: Type.String(),
  state: State,
  since: Ms('state since'),
  lastSeenAt: Type.Integer({ minimum: 0 }),
  clockOffsetS: Type.Optional(
    Type.Number({
      description:
        "seconds the agent's clock runs ahead of the collector's (negative: behind), as its samples are corrected and flagged (clock_offset_s); 0 when within 2 s",
    }),
  ),
});

/** In responses: the serializer has no need to re-check the letter. */
const UaiOut = Type.String({ description: 'UAI: 7 digits and their check letter' });

export const SchoolView = Type.Object(
  {
    uai: UaiOut,
    name: Type.String(),
    commune: Type.String(),
    isp: Nullable(Type.String()),
    inRegistry: Type.Boolean(),
    state: State,
    since: Ms('state since'),
    reason: Type.String({ description: 'why the state is what it is: birth, will, silent, loss...' }),
    lastSeenAt: Nullable(Ms('last message from the school')),
    readingAt: Nullable(Ms('when the latency, loss and WAN figures were received: how old they are')),
    latencyMs: Nullable(Type.Number({ description: 'median round trip to the internet anchors' })),
    lossPct: Nullable(Type.Number()),
    wanInBps: Nullable(Type.Number({ description: 'download traffic on the WAN link now' })),
    wanOutBps: Nullable(Type.Number()),
    speedtestDownBps: Nullable(Type.Number({ description: 'last speed test' })),
    speedtestUpBps: Nullable(Type.Number()),
    speedtestAt: Nullable(Type.Integer()),
    contractedDownMbps: Nullable(Type.Number()),
    contractedUpMbps: Nullable(Type.Number()),
    agentVersion: Nullable(Type.String()),
    agents: Type.Array(AgentView),
    dashboardUrl: Nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type SchoolView = Type.Static<typeof SchoolView>;

export const SchoolList = Type.Object({
  now: Ms('server clock, to correct the board for client clock skew'),
  counts: Type.Record(Type.String(), Type.Integer()),
  schools: Type.Array(SchoolView),
});

export const UaiParams = Type.Object({ uai: UaiSchema });

export const HistoryQuery = Type.Object(
  {
    hours: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 24 * 31, description: 'window, default from config' }),
    ),
  },
  { additionalProperties: false },
);

const SeriesPoint = Type.Array(Nullable(Type.Number()), {
  description: '[time ms, value...] in the order of `columns`',
});
export const Series = Type.Object({ columns: Type.Array(Type.String()), points: Type.Array(SeriesPoint) });

export const Transition = Type.Object({
  at: Type.Integer(),
  state: Type.String(),
  previous: Nullable(Type.String()),
  reason: Nullable(Type.String()),
});

export const Outage = Type.Object({
  uai: Type.String(),
  name: Nullable(Type.String()),
  commune: Nullable(Type.String()),
  start: Ms('outage start (last sign of life)'),
  end: Nullable(Ms('outage end; null while it lasts')),
  durationS: Type.Number(),
  schoolHoursS: Nullable(Type.Number({ description: 'part of the outage inside school hours' })),
  cause: Type.String({ description: 'wan_cut | power_or_box | unknown | ongoing' }),
});

export const SchoolDetail = Type.Object({
  school: SchoolView,
  from: Type.Integer(),
  to: Type.Integer(),
  bucket: Type.String({ description: 'InfluxQL GROUP BY time() of the series' }),
  latency: Series,
  wan: Series,
  speedtests: Series,
  transitions: Type.Array(Transition),
  outages: Type.Array(Outage),
});

export const OutagesQuery = Type.Object(
  {
    from: Type.Optional(Instant('default 7 days before `to`')),
    to: Type.Optional(Instant('default now')),
    uai: Type.Optional(UaiSchema),
  },
  { additionalProperties: false },
);

export const OutageList = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  outages: Type.Array(Outage),
});

export const Alert = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  severity: Type.String(),
  uai: Type.Optional(Type.String()),
  commune: Type.Optional(Type.String()),
  summary: Type.String(),
  startedAt: Type.Integer(),
  resolvedAt: Type.Optional(Type.Integer()),
  suppressed: Type.Optional(Type.Boolean()),
});

export const AlertsQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'past alerts returned' }) },
  { additionalProperties: false },
);

export const AlertList = Type.Object({ open: Type.Array(Alert), past: Type.Array(Alert) });

// An empty list would match every school: `{}` says that, a list that came out empty says nothing.
const ScopeList = <T extends Type.TSchema>(item: T, maxItems: number) =>
  Type.Optional(Type.Array(item, { minItems: 1, maxItems }));

export const Scope = Type.Object(
  {
    uai: ScopeList(UaiSchema, 10_000),
    commune: ScopeList(Type.String({ minLength: 1 }), 1000),
    isp: ScopeList(Type.String({ minLength: 1 }), 1000),
  },
  {
    additionalProperties: false,
    description: 'schools it applies to (every given list must match); {} written out: every school',
  },
);

const Period = {
  startsAt: Instant('start'),
  endsAt: Instant('end, after the start and not yet past; at most 366 days after the start'),
  comment: Type.String({ minLength: 1, maxLength: 1000 }),
  createdBy: Type.String({ minLength: 1, maxLength: 100 }),
};

export const NewSilenceBody = Type.Object(
  {
    scope: Scope,
    kinds: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'alert kinds; empty: all' }),
    ...Period,
  },
  { additionalProperties: false },
);

export const NewMaintenanceBody = Type.Object({ scope: Scope, ...Period }, { additionalProperties: false });

const Stored = {
  id: Type.String(),
  scope: Scope,
  startsAt: Type.Integer(),
  endsAt: Type.Integer(),
  comment: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.Integer(),
  active: Type.Boolean(),
};
export const SilenceOut = Type.Object({ ...Stored, kinds: Type.Array(Type.String()) });
export const MaintenanceOut = Type.Object(Stored);

/** Entries of the windows file (collector/http/mute-windows.ts), checked one by one when it is read. */
const StoredMs = Type.Integer({ minimum: MIN_INSTANT_MS, maximum: MAX_INSTANT_MS });
const { active: _active, ...storedFields } = Stored;
const storedWindow = {
  ...storedFields,
  startsAt: StoredMs,
  endsAt: StoredMs,
  createdAt: StoredMs,
  comment: Type.String({ maxLength: 1000 }),
  createdBy: Type.String({ maxLength: 100 }),
};
export const StoredSilence = Type.Object(
  { ...storedWindow, kinds: Type.Array(Type.String({ minLength: 1 })) },
  { additionalProperties: false },
);
export const StoredMaintenance = Type.Object(storedWindow, { additionalProperties: false });

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const Health = Type.Object({ status: Type.String(), uptimeS: Type.Number() });
export const Ready = Type.Object({
  ready: Type.Boolean(),
  checks: Type.Object({ broker: Type.Boolean(), influxdb: Type.Boolean() }),
});
