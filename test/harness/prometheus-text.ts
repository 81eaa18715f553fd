// Parse Prometheus text exposition strictly: parse-prometheus-text-format gives the families, and
// every sample line is also checked against the format's grammar (that parser is lenient). Values
// follow Go's ParseFloat, as Prometheus does: Inf and NaN in any case (prom-client writes "Nan").
import { createRequire } from 'node:module';

export interface PromFamily {
  name: string;
  help: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}

const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => PromFamily[];

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?[Ii][Nn][Ff]|[Nn][Aa][Nn])';
const SAMPLE = new RegExp(`^${NAME}(?:\\{(?:${LABEL}(?:,${LABEL})*,?)?\\})? ${VALUE}(?: -?\\d+)?$`);

/** Throws with the offending line when the text is not valid exposition format. */
export function parsePrometheusText(text: string): PromFamily[] {
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) return;
    if (!SAMPLE.test(line)) throw new Error(`line ${i + 1} is not Prometheus text format: ${line}`);
  });
  return parse(text);
}

/** The value of one sample: the family's metric whose labels include `labels`. */
export function sampleValue(
  families: PromFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = families.find((f) => f.name === name);
  const m = family?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m?.value === undefined ? undefined : Number(m.value);
}
