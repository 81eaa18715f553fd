// A collector in a shared-subscription group (docs/design-several-collectors.md) is refused, before
// anything starts, a config that would make it blind to its share or page once per collector.
import { describe, expect, it } from 'vitest';
import { resolveCollectorConfig } from '../../collector/config.ts';

const mqtt = { url: 'mqtt://broker.test:1883', clientId: 'c1', group: 'vigie' };

describe('collector group config', () => {
  it('accepts a group with MQTT 5 paging through Alertmanager', () => {
    const c = resolveCollectorConfig({
      mqtt,
      alerts: { channels: { alertmanager: { urls: ['http://am.test:9093'] } } },
    });
    expect(c.mqtt?.group).toBe('vigie');
  });

  it('refuses MQTT 3.1.1 in a group, naming the key', () => {
    expect(() => resolveCollectorConfig({ mqtt: { ...mqtt, protocolVersion: 4 } })).toThrow(
      /collector\.mqtt\.protocolVersion.*subscription identifiers/s,
    );
  });

  it('refuses webhooks and e-mail in a group: each collector would page', () => {
    expect(() =>
      resolveCollectorConfig({
        mqtt,
        alerts: { channels: { webhooks: [{ url: 'https://chat.test/hook' }] } },
      }),
    ).toThrow(/collector\.alerts\.channels.*webhook https:\/\/chat\.test\/hook/s);
  });

  it('leaves a lone collector free to use any channel', () => {
    const c = resolveCollectorConfig({
      mqtt: { url: mqtt.url },
      alerts: { channels: { webhooks: [{ url: 'https://chat.test/hook' }] } },
    });
    expect(c.alerts.channels.webhooks).toHaveLength(1);
  });
});
