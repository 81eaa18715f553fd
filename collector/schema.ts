// The InfluxDB schema: one table of measurements, tags and fields, each field with one fixed type.
// The collector maps samples with it, the dashboards query by it, docs/influx-schema.md prints it.
import type { ProbeKind } from '../shared/schemas.ts';

export type FieldType = 'float' | 'integer' | 'boolean' | 'string';

export interface MeasurementSpec {
  measurement: string;
  description: string;
  /** Tags beyond the common ones (uai, agent, commune, isp), taken from the sample. */
  tags: Record<string, string>;
  /** InfluxDB field name → [sample key, type]. */
  fields: Record<string, [string, FieldType]>;
}

/** Every point carries these; commune and isp come from the school registry at ingest. */
export const COMMON_TAGS = ['uai', 'agent', 'commune', 'isp'] as const;

export const SAMPLE_MEASUREMENTS: Record<ProbeKind, MeasurementSpec> = {
  ping: {
    measurement: 'ping',
    description: 'ICMP round trips to one target per round (≥ 10 echoes)',
    tags: { target: 'target', role: 'role' },
    fields: {
      sent: ['sent', 'integer'],
      received: ['received', 'integer'],
      loss_pct: ['lossPct', 'float'],
      min_ms: ['minMs', 'float'],
      avg_ms: ['avgMs', 'float'],
      max_ms: ['maxMs', 'float'],
      median_ms: ['medianMs', 'float'],
      p95_ms: ['p95Ms', 'float'],
      jitter_ms: ['jitterMs', 'float'],
      duplicates: ['duplicates', 'integer'],
      late: ['late', 'integer'],
      error: ['error', 'string'],
    },
  },
  dns: {
    measurement: 'dns',
    description: 'one resolution against a named resolver',
    tags: { resolver: 'resolver', name: 'name' },
    fields: { ok: ['ok', 'boolean'], rcode: ['rcode', 'string'], time_ms: ['timeMs', 'float'] },
  },
  http: {
    measurement: 'http',
    description: 'reachability of a web service teachers use',
    tags: { target: 'target' },
    fields: {
      ok: ['ok', 'boolean'],
      status: ['status', 'integer'],
      ttfb_ms: ['ttfbMs', 'float'],
      total_ms: ['totalMs', 'float'],
      cert_days_left: ['certDaysLeft', 'float'],
      error: ['error', 'string'],
    },
  },
  wan: {
    measurement: 'wan',
    description: 'uplink throughput from the box interface or the router (SNMP IF-MIB)',
    tags: { source: 'source', iface: 'iface' },
    fields: {
      in_bps: ['inBps', 'float'],
      out_bps: ['outBps', 'float'],
      in_pct: ['inPct', 'float'],
      out_pct: ['outPct', 'float'],
      counter_reset: ['counterReset', 'boolean'],
    },
  },
  wifi: {
    measurement: 'wifi',
    description: 'one Wi-Fi access point: up, reachable, uptime, radios, clients',
    tags: { ap: 'ap' },
    fields: {
      up: ['up', 'boolean'],
      reachable: ['reachable', 'boolean'],
      uptime_s: ['uptimeS', 'float'],
      rebooted: ['rebooted', 'boolean'],
      radios_up: ['radiosUp', 'integer'],
      radios_total: ['radiosTotal', 'integer'],
      clients: ['clients', 'integer'],
      error: ['error', 'string'],
    },
  },
  speedtest: {
    measurement: 'speedtest',
    description: 'active download and upload test against the collector',
    tags: { target: 'target' },
    fields: {
      ok: ['ok', 'boolean'],
      down_bps: ['downBps', 'float'],
      up_bps: ['upBps', 'float'],
      down_bytes: ['downBytes', 'integer'],
      up_bytes: ['upBytes', 'integer'],
      duration_ms: ['durationMs', 'float'],
      error: ['error', 'string'],
    },
  },
  self: {
    measurement: 'agent',
    description: 'the agent process itself',
    tags: {},
    fields: {
      version: ['version', 'string'],
      uptime_s: ['uptimeS', 'float'],
      rss_bytes: ['rssBytes', 'integer'],
      cpu_pct: ['cpuPct', 'float'],
      spool_bytes: ['spoolBytes', 'integer'],
      spool_batches: ['spoolBatches', 'integer'],
      spool_dropped: ['spoolDropped', 'integer'],
    },
  },
};

/** Measurements the collector writes itself (not from a sample). Time is given per measurement. */
export const COLLECTOR_MEASUREMENTS = {
  batch: {
    measurement: 'batch',
    description:
      'one per metrics batch received; time = the batch t (agent clock, corrected when clock_offset_s is set)',
    tags: ['uai', 'agent', 'commune', 'isp'],
    // clock_offset_ms: received − t (agent clock, spool age included); clock_offset_s: set only when the
    // agent's clock was corrected (collector/clock-offset.ts), by that many seconds, on every point of the batch.
    fields: {
      seq: 'integer',
      samples: 'integer',
      clock_offset_ms: 'float',
      clock_offset_s: 'float',
    } as Record<string, FieldType>,
  },
  presence: {
    measurement: 'presence',
    description:
      'one per state change of a school (scope=school) or an agent (scope=agent); time = the change',
    tags: ['uai', 'agent', 'commune', 'isp', 'scope'],
    // state_code: 2 online, 1 degraded, 0 offline, -1 unknown (for state timelines)
    fields: { state: 'string', previous: 'string', state_code: 'integer', reason: 'string' } as Record<
      string,
      FieldType
    >,
  },
  outage: {
    measurement: 'outage',
    description: 'one per finished outage of a school; time = its start',
    // cause: wan_cut (box kept running, gateway answered) | power_or_box (box down) | unknown
    tags: ['uai', 'commune', 'isp', 'cause'],
    fields: { duration_s: 'float', end_ms: 'integer', school_hours_s: 'float' } as Record<string, FieldType>,
  },
  alert: {
    measurement: 'alert',
    description:
      "one per alert the team was told of, rewritten by its reminders and its resolution; time = the problem's start",
    // Only tags that never change for an alert: its resolution must land on the point of its firing.
    tags: ['kind', 'uai', 'subject', 'group_by', 'group_value'],
    // state: firing | resolved; members: a mass outage's UAIs, comma-separated
    fields: {
      state: 'string',
      key: 'string',
      severity: 'string',
      paged_ms: 'integer',
      last_sent_ms: 'integer',
      resolved_ms: 'integer',
      members: 'string',
      latest_member_ms: 'integer',
    } as Record<string, FieldType>,
  },
  availability_month: {
    measurement: 'availability_month',
    description:
      "one per school and calendar month (local time), the availability engine's figures, rewritten hourly for the current month, daily and after late batches for the previous one, in the long policy; time = the month's local start",
    // month: YYYY-MM. Hours and minutes add across months and schools; rates are computed from the sums.
    tags: ['uai', 'commune', 'isp', 'month'],
    fields: {
      open_h: 'float',
      up_h: 'float',
      lost_h: 'float',
      not_measured_h: 'float',
      excluded_h: 'float',
      availability_pct: 'float',
      coverage_pct: 'float',
      outages: 'integer',
      longest_outage_s: 'float',
      lost_min_wan_cut: 'float',
      lost_min_power_or_box: 'float',
      lost_min_unknown: 'float',
      calendar_h: 'float',
      calendar_up_h: 'float',
      calendar_down_h: 'float',
      calendar_uptime_pct: 'float',
      end_ms: 'integer',
      as_of_ms: 'integer',
    } as Record<string, FieldType>,
  },
  school: {
    measurement: 'school',
    description:
      'the registry entry of one school, written at start and daily (InfluxQL cannot read the registry); time = when written',
    // label = "UAI name": one tag the dashboards' school picker splits into value (UAI) and text.
    tags: ['uai', 'commune', 'isp', 'label'],
    fields: {
      name: 'string',
      lat: 'float',
      lon: 'float',
      contracted_down_bps: 'float',
      contracted_up_bps: 'float',
      hours: 'string',
    } as Record<string, FieldType>,
  },
  school_day: {
    measurement: 'school_day',
    description:
      "one per school and local day (collector.alerts.timezone), written to the long policy by the collector's day-rollup job; time = local midnight",
    // Only uai: the point is rewritten in place when the job redoes a day (docs/report.md).
    // measured: base64 bitmap of the day's 5-minute slots holding a batch; pings: the slots' anchor
    // RTT and loss; wifi: the slots' access-point polls and up polls (collector/day-rollup-codec.ts);
    // slots: the day's slot count (276/288/300 with DST).
    tags: ['uai'],
    fields: {
      measured: 'string',
      pings: 'string',
      wifi: 'string',
      slots: 'integer',
      format: 'integer',
    } as Record<string, FieldType>,
  },
} as const;

export const PRESENCE_STATE_CODES = { online: 2, degraded: 1, offline: 0, unknown: -1 } as const;
/** The presence states, best first: the one list every other module derives from. */
export const PRESENCE_STATES = Object.keys(PRESENCE_STATE_CODES) as (keyof typeof PRESENCE_STATE_CODES)[];
