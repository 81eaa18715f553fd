// The `collector.alerts` section: policy, school hours, holidays, maintenance, channels.
import Type from 'typebox';
import { DEFAULT_HOURS_PROFILES, DEFAULT_TIMEZONE } from '../../shared/school-hours.ts';
import { HolidayCalendarsConfig, HoursProfileConfig } from '../../shared/school-hours-config.ts';

const Level = Type.Object({ warn: Type.Number(), crit: Type.Number() }, { additionalProperties: false });

/** RFC 3339; without an offset, local to `timezone` (schedule.ts reads it with shared/time.ts). */
const WindowTime = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T',
  description: 'RFC 3339 date-time, e.g. 2026-02-10T20:00:00+01:00 (no offset: local to alerts.timezone)',
});

/** Matches schools and alerts; every given field must match. */
export const Window = Type.Object(
  {
    from: WindowTime,
    to: WindowTime,
    uai: Type.Optional(Type.Array(Type.String())),
    commune: Type.Optional(Type.Array(Type.String())),
    isp: Type.Optional(Type.Array(Type.String())),
    kind: Type.Optional(Type.Array(Type.String())),
    comment: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Window = Type.Static<typeof Window>;

export const WebhookConfig = Type.Object(
  {
    url: Type.String({ pattern: '^https?://' }),
    format: Type.Union([Type.Literal('generic'), Type.Literal('slack'), Type.Literal('teams')], {
      default: 'generic',
    }),
    /** HMAC-SHA256 of the body, hex, sent as `X-Vigie-Signature: sha256=…`. */
    secret: Type.Optional(Type.String({ minLength: 8 })),
    retries: Type.Integer({ minimum: 0, maximum: 20, default: 5 }),
    timeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
  },
  { additionalProperties: false },
);
export type WebhookConfig = Type.Static<typeof WebhookConfig>;

export const EmailConfig = Type.Object(
  {
    host: Type.String(),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
    /** true = TLS from the start (465); false = STARTTLS when offered. */
    secure: Type.Boolean({ default: false }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    from: Type.String({ minLength: 3 }),
    to: Type.Array(Type.String({ minLength: 3 }), { minItems: 1 }),
    retries: Type.Integer({ minimum: 0, maximum: 20, default: 3 }),
  },
  { additionalProperties: false },
);
export type EmailConfig = Type.Static<typeof EmailConfig>;

export const AlertmanagerConfig = Type.Object(
  {
    /** Every Alertmanager of the cluster: each gets every alert (it dedupes). */
    urls: Type.Array(Type.String({ pattern: '^https?://' }), { minItems: 1 }),
    /** Firing alerts are re-posted this often so Alertmanager does not time them out. */
    resendSeconds: Type.Integer({ minimum: 1, default: 60 }),
    retries: Type.Integer({ minimum: 0, maximum: 20, default: 3 }),
  },
  { additionalProperties: false },
);
export type AlertmanagerConfig = Type.Static<typeof AlertmanagerConfig>;

export const AlertsConfig = Type.Object(
  {
    language: Type.Union([Type.Literal('fr'), Type.Literal('en')], { default: 'fr' }),
    timezone: Type.String({ default: DEFAULT_TIMEZONE }),
    /** A school offline (or degraded) this long, counted from its last sign of life, before an alert. */
    graceSeconds: Type.Number({ minimum: 0, default: 120 }),
    /** Consecutive bad rounds before a metric alert (and good rounds before it resolves). */
    rounds: Type.Integer({ minimum: 1, default: 3 }),
    /** 0 = no reminders. */
    reminderMinutes: Type.Number({ minimum: 0, default: 240 }),
    mass: Type.Object(
      {
        /** Schools whose outages began within this window and share an ISP or a commune form one alert. */
        windowSeconds: Type.Number({ minimum: 0, default: 60 }),
        minSchools: Type.Integer({ minimum: 2, default: 5 }),
      },
      { additionalProperties: false, default: {} },
    ),
    thresholds: Type.Optional(
      Type.Object(
        {
          lossPct: Type.Optional(Level),
          latencyMs: Type.Optional(Level),
          jitterMs: Type.Optional(Level),
          wanSaturationPct: Type.Optional(Level),
          httpMs: Type.Optional(Level),
          certDaysLeft: Type.Optional(Level),
          clockDriftMs: Type.Optional(Level),
        },
        { additionalProperties: false },
      ),
    ),
    dashboard: Type.Object(
      {
        schoolUrl: Type.String({ default: 'http://localhost:3000/d/vigie-school/ecole?var-uai={uai}' }),
        fleetUrl: Type.String({ default: 'http://localhost:3000/d/vigie-fleet/parc' }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Opening-hours profiles by name, added to the default set (shared/school-hours.ts: `school`,
     * `school-wednesday`) or replacing one of it; a school picks one in the registry (`hours`).
     */
    hours: Type.Record(Type.String(), HoursProfileConfig, { default: DEFAULT_HOURS_PROFILES }),
    calendars: HolidayCalendarsConfig,
    maintenance: Type.Array(Window, { default: [] }),
    silences: Type.Array(Window, { default: [] }),
    channels: Type.Object(
      {
        webhooks: Type.Array(WebhookConfig, { default: [] }),
        email: Type.Optional(EmailConfig),
        alertmanager: Type.Optional(AlertmanagerConfig),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Largest queue of notifications waiting for a channel; past it the oldest are dropped and counted. */
    maxQueued: Type.Integer({ minimum: 1, default: 10_000 }),
  },
  { additionalProperties: false, default: {} },
);
export type AlertsConfig = Type.Static<typeof AlertsConfig>;
