// A silence or maintenance window must name things that exist: `school_ofline` or the commune
// `Viene` would be accepted and silence nothing, and the team would be paged during the works.

import { didYouMean } from '../../shared/near-match.ts';
import { ALERT_KINDS } from '../alerts/policy.ts';
import type { RegistrySource, Scope } from './deps.ts';

/**
 * The first name in a new window's scope or kinds that matches nothing, as a 400 message naming the
 * field and the near match (`body/kinds/0: "school_ofline" is not an alert kind (did you mean
 * "school_offline"?)`); undefined when all are known. UAIs, communes and ISPs are checked against the
 * registry, and only when one is loaded (without it every school is unknown).
 */
export function scopeProblem(
  body: { scope: Scope; kinds?: readonly string[] },
  registry: RegistrySource,
): string | undefined {
  for (const [i, kind] of (body.kinds ?? []).entries())
    if (!(ALERT_KINDS as readonly string[]).includes(kind))
      return `body/kinds/${i}: "${kind}" is not an alert kind${didYouMean(kind, ALERT_KINDS)}; kinds: ${ALERT_KINDS.join(', ')}`;
  const schools = [...registry.schools()];
  if (schools.length === 0) return undefined;
  const known = {
    uai: new Set(schools.map((s) => s.uai as string)),
    commune: new Set(schools.map((s) => s.commune)),
    isp: new Set(schools.map((s) => s.isp)),
  };
  const label = {
    uai: 'a school UAI of the registry',
    commune: 'a commune of the registry',
    isp: 'an ISP of the registry',
  };
  for (const field of ['uai', 'commune', 'isp'] as const)
    for (const [i, name] of (body.scope[field] ?? []).entries())
      if (!known[field].has(name))
        return `body/scope/${field}/${i}: "${name}" is not ${label[field]}${didYouMean(name, known[field])}`;
  return undefined;
}
