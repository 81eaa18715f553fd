// Renders docs/influx-schema.md from the schema table, so the document cannot drift from the code
// (a unit test compares them; `npx tsx collector/schema-doc.ts > docs/influx-schema.md` rewrites it).
import { formatWindow } from './cardinality.ts';
import { resolveCollectorConfig } from './config.ts';
import { continuousQuery, rollups } from './retention.ts';
import { COLLECTOR_MEASUREMENTS, COMMON_TAGS, SAMPLE_MEASUREMENTS } from './schema.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function renderSchemaDoc(): string {
  const defaults = resolveCollectorConfig({}).retention;
  const out: string[] = [
    '# InfluxDB schema',
    '',
    'Generated from `collector/schema.ts` by `collector/schema-doc.ts`; do not edit by hand.',
    '',
    'Every field has one type, forever: integers are written with the `i` suffix, floats never are.',
    `Every point carries the tags ${COMMON_TAGS.map((t) => `\`${t}\``).join(', ')} (commune and isp come from the`,
    'school registry at ingest, absent for a school the registry does not know). Times are the agent clock,',
    'written with millisecond precision; when that clock is more than 2 s off (measured by the collector from',
    "the batches' send times), every point of the batch is written at the corrected time and carries the",
    'float field `clock_offset_s` (the correction, seconds). A point is identified by measurement + tags + time, so a batch',
    'delivered twice (at-least-once) overwrites itself.',
    '',
    '## Measurements from samples',
    '',
    '| measurement | probe | tags (beyond the common ones) | field | type | sample key |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const [probe, spec] of Object.entries(SAMPLE_MEASUREMENTS)) {
    const tags =
      Object.entries(spec.tags)
        .map(([tag, key]) => (tag === key ? `\`${tag}\`` : `\`${tag}\` (${key})`))
        .join(', ') || '—';
    Object.entries(spec.fields).forEach(([field, [key, type]], i) => {
      const head = i === 0 ? `\`${spec.measurement}\` | ${probe} | ${tags}` : ' | | ';
      out.push(`| ${head} | \`${field}\` | ${type} | \`${key}\` |`);
    });
  }
  out.push(
    '',
    '## Measurements the collector writes',
    '',
    '| measurement | tags | field | type | what |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const m of Object.values(COLLECTOR_MEASUREMENTS)) {
    Object.entries(m.fields).forEach(([field, type], i) => {
      const head = i === 0 ? `\`${m.measurement}\` | ${m.tags.map((t) => `\`${t}\``).join(', ')}` : ' | ';
      out.push(`| ${head} | \`${field}\` | ${type} | ${i === 0 ? cell(m.description) : ''} |`);
    });
  }
  out.push(...seriesBounds());
  out.push(
    '',
    '## Retention and rollups',
    '',
    `- \`${defaults.raw.name}\` (default policy): raw points, kept ${defaults.raw.duration} (shards of ${defaults.raw.shardDuration}).`,
    `- \`${defaults.rollup.name}\`: ${defaults.rollup.interval} rollups, kept ${defaults.rollup.duration === 'INF' ? 'forever' : defaults.rollup.duration}, for multi-year reports.`,
    '- Numbers roll up as their mean under the same name (integers become floats there); a boolean `f`',
    '  becomes `f_n` (how many values) and `f_true` (how many true), so availability ratios survive;',
    '  strings are not rolled up. Presence and outages keep the first value of each field per interval.',
    '- An outage point is stamped with its start but written when it ends: its rollup looks back as far',
    '  as the raw policy keeps points (90 days by default) every 30 minutes, so every outage InfluxDB',
    '  accepted reaches the long policy within 30 minutes of its end. `vigie report` reads outages that',
    "  began before the raw policy's edge from the long policy (docs/report.md).",
    '- All names and durations are configurable (`collector.retention`); the collector creates or alters',
    '  them at every start.',
    ...UNMANAGED,
    '',
    'Continuous queries with the default config:',
    '',
    '```sql',
    ...rollups().map((r) => `${continuousQuery('vigie', defaults, r)};`),
    '```',
    '',
  );
  return out.join('\n');
}

/** `retention.manage: false`: what the collector still writes, and where (docs/influx-schema.md). */
const UNMANAGED = [
  '- `retention.manage: false` (the operator manages InfluxDB): the collector creates nothing — no',
  '  database, policy or continuous query — and writes as in the managed mode: raw points to the',
  "  database's default policy, which must be the one named `retention.raw.name` (the report reads it by",
  '  that name, the dashboards read the default); long-policy points (`availability_month`, `school_day`,',
  '  outages older than the raw policy keeps) to `retention.rollup.name`, where the Continuity dashboard',
  '  and the report read them. Create both before starting it. Until the long policy exists, its points',
  "  wait in the collector's second write-ahead log (`wal.dir/long-policy`), nothing is lost, and the",
  "  status's last write error names the missing policy; a raw policy missing or not the default is",
  '  logged once as a warning. Without the continuous queries, the long policy holds only those points:',
  '  create the rollups yourself (the statements below) for multi-year reports on older samples.',
  "  FR : `retention.manage: false` — l'exploitant crée la base et les deux politiques (noms de la",
  '  configuration, la brute par défaut) ; le collecteur y écrit comme en mode géré, sans rien créer.',
];

/** What bounds the series count: the cardinality defaults, said with the tags they cover. */
function seriesBounds(): string[] {
  const b = resolveCollectorConfig({}).ingest.cardinality;
  const key = (k: keyof typeof b) => `\`collector.ingest.cardinality.${k}\``;
  const window = formatWindow(b.forgetAfterMs);
  const specs = Object.values(SAMPLE_MEASUREMENTS);
  const tagged = specs.filter((m) => Object.keys(m.tags).length > 0);
  const untagged = specs.filter((m) => Object.keys(m.tags).length === 0).map((m) => `\`${m.measurement}\``);
  // Per agent: its tagged sample measurements, its untagged ones, `batch` and `presence` (scope=agent).
  const perAgent = `${tagged.length} × ${b.maxSeriesPerProbe} + ${untagged.length + 2}`;
  const total = b.maxAgentsPerSchool * (tagged.length * b.maxSeriesPerProbe + untagged.length + 2);
  return [
    '',
    '## What bounds the series count',
    '',
    'InfluxDB indexes every series (measurement + tag values) until the shards holding it are dropped. The',
    'collector (collector/cardinality.ts) bounds what one school can add, per collector instance:',
    '',
    '- `uai`: one per school the broker lets publish (the ACL confines a credential to its own UAI);',
    '  `commune`, `isp` and `label` come from the registry. `collector.ingest.rejectUnknownSchools` refuses',
    '  schools the registry lacks.',
    `- \`agent\`: at most ${b.maxAgentsPerSchool} per school (${key('maxAgentsPerSchool')}). A metrics batch, event or live`,
    '  status from one more agent is refused (`too_many_agents`); a retained status replayed by the broker',
    '  passes while a place is free, but takes none.',
    `- Tags from samples: at most ${b.maxSeriesPerProbe} distinct tag sets per agent and probe kind (${key('maxSeriesPerProbe')}):`,
    `  ${tagged.map((m) => `\`${m.measurement}\` ${Object.keys(m.tags).join(' × ')}`).join(', ')}.`,
    '  A sample that would open one more is dropped (`too_many_series`, one dead letter per batch); the',
    '  rest of its batch and its `batch` point are stored.',
    `- Places are held by what was seen within ${window} (${key('forgetAfterMs')}): an agent or series unseen`,
    '  that long frees its place, so a changed agent config gets its new targets at once while under the',
    `  bound, within ${window} at worst.`,
    '- The log warns once per school and bound; every refusal is counted on `/metrics` as',
    '  `vigie_collector_rejected_total{reason="too_many_agents"}` or `{reason="too_many_series"}`.',
    '',
    `So a school's agents open at most ${b.maxAgentsPerSchool} × (${perAgent}) = ${total} series within ${window} (per`,
    `agent: ${tagged.length} tagged sample measurements, ${[...untagged, '`batch`', '`presence`'].join(', ')}), plus a handful`,
    'of its own (`presence`, `outage`, `school`). Churn can add as many again each window until the raw',
    'retention drops the old shards, and a collector restart starts the count afresh (each agent may open',
    'its bound again, and no more); with a shared subscription each collector counts what it sees. The',
    `tracker holds at most ${b.maxSchools} schools (${key('maxSchools')}; about 200 B per tracked series); past that`,
    'it forgets the least recently seen school and logs it.',
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(renderSchemaDoc());
