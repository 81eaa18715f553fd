// MQTT topics, version 1: vigie/v1/{uai}/{agent}/{metrics|status|events}.
import { type Uai, uaiProblem } from './uai.ts';

export const TOPIC_ROOT = 'vigie/v1';
export const TOPIC_KINDS = ['metrics', 'status', 'events'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

/** Agent ids appear in topics and InfluxDB tags: keep them short and plain. */
export const AGENT_ID_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$';
const agentIdRe = new RegExp(AGENT_ID_PATTERN);

export function agentIdProblem(id: unknown): string | null {
  if (typeof id !== 'string') return `an agent id must be a string, got ${typeof id}`;
  if (!agentIdRe.test(id))
    return `agent id "${id}" must match ${AGENT_ID_PATTERN} (lower case letters, digits, . _ -)`;
  return null;
}

export interface TopicParts {
  uai: Uai;
  agent: string;
  kind: TopicKind;
}

export function buildTopic(uai: Uai | string, agent: string, kind: TopicKind): string {
  const problem = uaiProblem(uai) ?? agentIdProblem(agent);
  if (problem) throw new Error(problem);
  return `${TOPIC_ROOT}/${uai}/${agent}/${kind}`;
}

export const metricsTopic = (uai: Uai | string, agent: string) => buildTopic(uai, agent, 'metrics');
export const statusTopic = (uai: Uai | string, agent: string) => buildTopic(uai, agent, 'status');
export const eventsTopic = (uai: Uai | string, agent: string) => buildTopic(uai, agent, 'events');

/** Subscription filter for one kind across every school and agent. */
export const topicFilter = (kind: TopicKind) => `${TOPIC_ROOT}/+/+/${kind}`;

export type TopicParseResult = { ok: true; topic: TopicParts } | { ok: false; error: string };

export function parseTopic(topic: string): TopicParseResult {
  const parts = topic.split('/');
  if (parts.length !== 5)
    return { ok: false, error: `topic "${topic}" must have 5 levels: ${TOPIC_ROOT}/{uai}/{agent}/{kind}` };
  const [root, version, uai, agent, kind] = parts as [string, string, string, string, string];
  if (`${root}/${version}` !== TOPIC_ROOT)
    return { ok: false, error: `topic "${topic}" does not start with ${TOPIC_ROOT}` };
  const problem = uaiProblem(uai) ?? agentIdProblem(agent);
  if (problem) return { ok: false, error: `topic "${topic}": ${problem}` };
  if (!(TOPIC_KINDS as readonly string[]).includes(kind)) {
    return {
      ok: false,
      error: `topic "${topic}": kind must be one of ${TOPIC_KINDS.join(', ')}, got "${kind}"`,
    };
  }
  return { ok: true, topic: { uai: uai as Uai, agent, kind: kind as TopicKind } };
}
