// Checks for several collectors in one shared-subscription group (collector.mqtt.group), said before
// anything starts. Why these rules: docs/design-several-collectors.md.
import type { ConfigProblem } from '../shared/config.ts';
import type { CollectorConfig } from './config.ts';

/**
 * Problems of a grouped collector's config, [] when it has no group. A group needs MQTT 5 (the two
 * copies of the metrics stream are told apart by subscription identifiers, ingest/copies.ts), and pages
 * only through Alertmanager: every collector of the group decides the same alerts, and only Alertmanager
 * merges identical alerts from several senders into one page; webhooks and e-mail would page once per
 * collector (configure them as Alertmanager receivers instead).
 */
export function groupProblems(config: Pick<CollectorConfig, 'mqtt' | 'alerts'>): ConfigProblem[] {
  const group = config.mqtt?.group;
  if (!group) return [];
  const problems: ConfigProblem[] = [];
  const why = `with collector.mqtt.group "${group}" (several collectors, docs/deploy.md)`;
  if (config.mqtt?.protocolVersion !== 5)
    problems.push({
      path: 'collector.mqtt.protocolVersion',
      expected: `5 ${why}: each collector tells its share of the metrics from the whole stream by MQTT 5 subscription identifiers / 5 avec un groupe : chaque collecteur distingue sa part du flux entier par les identifiants d'abonnement MQTT 5`,
      found: String(config.mqtt?.protocolVersion),
    });
  const ch = config.alerts.channels;
  const others = [...ch.webhooks.map((w) => `webhook ${w.url}`), ...(ch.email ? ['email'] : [])];
  if (others.length)
    problems.push({
      path: 'collector.alerts.channels',
      expected: `only alertmanager ${why}: every collector decides the same alerts and only Alertmanager makes one page of them; route webhooks and e-mail from Alertmanager's receivers / seulement alertmanager avec un groupe : chaque collecteur décide les mêmes alertes et seul Alertmanager n'en fait qu'une notification`,
      found: others.join(', '),
    });
  return problems;
}
