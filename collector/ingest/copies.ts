// Several collectors in one shared-subscription group (collector.mqtt.group, docs/design-several-collectors.md):
// each collector gets two copies of the metrics stream, told apart by their MQTT 5 subscription identifier.
//   - `store`: its share of `$share/<group>/…/metrics` (QoS 1, persistent): written to the log, then InfluxDB;
//     every batch reaches exactly one collector of the group.
//   - `observe`: every batch of every school (plain `…/metrics`, QoS 0: nothing queued while the collector is
//     away, where presence is rebuilt from InfluxDB instead): presence and alerts judge it, nothing is written.
// A lone collector subscribes once and each message is both.
import type { IPublishPacket, ISubscriptionMap } from 'mqtt';
import { topicFilter } from '../../shared/topics.ts';

export type CopyRole = 'both' | 'store' | 'observe';

/** Subscription identifiers (MQTT 5, 1 to 268,435,455) of the two metrics subscriptions of a grouped collector. */
export const STORE_SUBSCRIPTION_ID = 1;
export const OBSERVE_SUBSCRIPTION_ID = 2;

export interface Subscription {
  filters: ISubscriptionMap;
  /** MQTT 5 SUBSCRIBE properties; a SUBSCRIBE carries one identifier, hence one packet per role. */
  subscriptionIdentifier?: number;
}

/** What a collector subscribes to: status and events always whole; metrics whole, or shared plus whole. */
export function subscriptions(group: string | undefined): Subscription[] {
  const whole: ISubscriptionMap = {
    [topicFilter('status')]: { qos: 1 },
    [topicFilter('events')]: { qos: 1 },
  };
  if (!group) return [{ filters: { ...whole, [topicFilter('metrics')]: { qos: 1 } } }];
  return [
    { filters: whole },
    {
      filters: { [`$share/${group}/${topicFilter('metrics')}`]: { qos: 1 } },
      subscriptionIdentifier: STORE_SUBSCRIPTION_ID,
    },
    {
      filters: { [topicFilter('metrics')]: { qos: 0 } },
      subscriptionIdentifier: OBSERVE_SUBSCRIPTION_ID,
    },
  ];
}

/**
 * Which copy a message is, from its subscription identifier(s). A broker may send one message for both
 * matching subscriptions with both identifiers (allowed by MQTT 5 §3.3.4): it is then both. A message
 * without identifier (lone collector, status, events) is both.
 */
export function roleOf(packet: Pick<IPublishPacket, 'properties'>): CopyRole {
  const id = packet.properties?.subscriptionIdentifier;
  const ids = id === undefined ? [] : Array.isArray(id) ? id : [id];
  const store = ids.includes(STORE_SUBSCRIPTION_ID);
  const observe = ids.includes(OBSERVE_SUBSCRIPTION_ID);
  if (store && !observe) return 'store';
  if (observe && !store) return 'observe';
  return 'both';
}
