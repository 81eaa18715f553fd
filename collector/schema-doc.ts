// Renders docs/influx-schema.md from the schema table, so the document cannot drift from the code
// (a unit test compares them; `npx tsx collector/schema-doc.ts > docs/influx-schema.md` rewrites it).
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
    'written with millisecond precision. A point is identified by measurement + tags + time, so a batch',
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
  out.push(
    '',
    '## Retention and rollups',
    '',
    `- \`${defaults.raw.name}\` (default policy): raw points, kept ${defaults.raw.duration} (shards of ${defaults.raw.shardDuration}).`,
    `- \`${defaults.rollup.name}\`: ${defaults.rollup.interval} rollups, kept ${defaults.rollup.duration === 'INF' ? 'forever' : defaults.rollup.duration}, for multi-year reports.`,
    '- Numbers roll up as their mean under the same name (integers become floats there); a boolean `f`',
    '  becomes `f_n` (how many values) and `f_true` (how many true), so availability ratios survive;',
    '  strings are not rolled up. Presence and outages keep the first value of each field per interval.',
    '- An outage point is stamped with its start but written when it ends: its rollup looks back 35 days',
    '  every 30 minutes, so every outage up to 35 days long reaches the long policy within 30 minutes of',
    '  its end. The continuity dashboard reads outages from the long policy, so a school year adds up.',
    '- All names and durations are configurable (`collector.retention`); the collector creates or alters',
    '  them at every start.',
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

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(renderSchemaDoc());
