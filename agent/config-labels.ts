// Config values that become InfluxDB tags (ping and HTTP target names, DNS resolvers and names, Wi-Fi
// access point names, WAN interfaces and router names) must be labels (shared/labels.ts): refused at
// `vigie config check` and at agent start with the key named, where the installer can fix them —
// not discovered later as batches the collector cannot store.
import type { ConfigProblem } from '../shared/config.ts';
import { labelProblem, normaliseLabel } from '../shared/labels.ts';
import type { ProbesConfig } from './probes/config.ts';

/** Each label-bearing key of `probes` with its value, `path` its prefix (`agent.probes`). */
function labelValues(probes: Partial<ProbesConfig> | undefined, path: string): [string, string][] {
  const out: [string, string][] = [];
  probes?.ping?.targets?.forEach((t, i) => {
    out.push(
      t.name === undefined
        ? [`${path}.ping.targets[${i}].host`, t.host]
        : [`${path}.ping.targets[${i}].name`, t.name],
    );
  });
  probes?.dns?.queries?.forEach((q, i) => {
    out.push([`${path}.dns.queries[${i}].resolver`, q.resolver]);
    out.push([`${path}.dns.queries[${i}].name`, q.name]);
  });
  probes?.http?.targets?.forEach((t, i) => {
    out.push(
      t.name === undefined
        ? [`${path}.http.targets[${i}].url`, t.url]
        : [`${path}.http.targets[${i}].name`, t.name],
    );
  });
  probes?.wan?.interfaces?.forEach((name, i) => {
    out.push([`${path}.wan.interfaces[${i}]`, name]);
  });
  probes?.wan?.routers?.forEach((r, i) => {
    out.push([`${path}.wan.routers[${i}].${r.name === undefined ? 'host' : 'name'}`, r.name ?? r.host]);
    r.interfaces.forEach((name, j) => {
      if (typeof name === 'string') out.push([`${path}.wan.routers[${i}].interfaces[${j}]`, name]);
    });
  });
  probes?.wifi?.accessPoints?.forEach((ap, i) => {
    out.push([`${path}.wifi.accessPoints[${i}].name`, ap.name]);
  });
  if (probes?.speedtest?.url) out.push([`${path}.speedtest.url`, probes.speedtest.url]);
  return out;
}

/**
 * The probe config's values that are not labels, as config problems naming each key, the value, what
 * is wrong and what to write instead. Empty when every label is fine.
 */
export function probeLabelProblems(
  probes: Partial<ProbesConfig> | undefined,
  path = 'agent.probes',
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [key, value] of labelValues(probes, path)) {
    const problem = labelProblem(value);
    if (!problem) continue;
    const fixed = normaliseLabel(value);
    problems.push({
      path: key,
      expected: `a name InfluxDB can store (shared/labels.ts): it ${problem}${fixed !== value ? `; write ${JSON.stringify(fixed)}` : ''}`,
      found: JSON.stringify(value),
    });
  }
  problems.push(...accessPointNameProblems(probes, path));
  return problems;
}

/**
 * Wi-Fi access point names are the `ap` tag of their polls: two APs of one name would write one series
 * (the second poll of a round overwrites the first: a poll lost each round), and a name starting with
 * `box:` is the box's own radio (agent/probes/box-wifi.ts), left out of the access points' figures.
 */
function accessPointNameProblems(probes: Partial<ProbesConfig> | undefined, path: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, number>();
  probes?.wifi?.accessPoints?.forEach((ap, i) => {
    const key = `${path}.wifi.accessPoints[${i}].name`;
    const name = normaliseLabel(ap.name);
    if (/^box:/i.test(name))
      problems.push({
        path: key,
        expected: `an access point name not starting with "box:" (reserved for the box's own radio, which is not an access point); write ${JSON.stringify(name.replace(/^box:\s*/i, '') || 'AP')}`,
        found: JSON.stringify(ap.name),
      });
    const first = seen.get(name);
    if (first !== undefined)
      problems.push({
        path: key,
        expected: `a name no other access point has (accessPoints[${first}] is already ${JSON.stringify(name)}): each access point's polls are stored under its name`,
        found: JSON.stringify(ap.name),
      });
    else seen.set(name, i);
  });
  return problems;
}
