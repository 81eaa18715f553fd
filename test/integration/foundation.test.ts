// The shared contract across real peers: Mosquitto carries a schema-valid message, InfluxDB stores
// and returns a point, snmpd answers sysUpTime.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsBatch } from '../../shared/schemas.ts';
import { metricsTopic, parseTopic, topicFilter } from '../../shared/topics.ts';
import { decodeMetrics } from '../../shared/validate.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { type SnmpdHandle, SYS_UPTIME_OID, snmpGet, startSnmpd } from '../harness/snmpd.ts';

let broker: MosquittoHandle;
let influx: InfluxHandle;
let snmpd: SnmpdHandle;

beforeAll(async () => {
  [broker, influx, snmpd] = await Promise.all([startMosquitto(), startInfluxdb(), startSnmpd()]);
});
afterAll(async () => {
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose(), snmpd?.daemon.dispose()]);
});

describe('foundation against real peers', () => {
  it('carries a schema-valid metrics batch through Mosquitto and validates it on arrival', async () => {
    const batch: MetricsBatch = {
      v: 1,
      uai: '0690001A',
      agent: 'box-1',
      seq: 7,
      t: Date.now(),
      samples: [
        {
          probe: 'ping',
          t: Date.now(),
          target: 'gateway',
          sent: 10,
          received: 9,
          lossPct: 10,
          medianMs: 1.2,
        },
      ],
    };
    // The UAI must carry its real check letter.
    batch.uai = `0690001${'ABCDEFGHJKLMNPRSTUVWXYZ'[690001 % 23]}`;
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'foundation-sub' });
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'foundation-pub' });
    try {
      const received = new Promise<{ topic: string; payload: Buffer }>((resolve) =>
        sub.once('message', (topic, payload) => resolve({ topic, payload })),
      );
      await sub.subscribeAsync(topicFilter('metrics'), { qos: 1 });
      await pub.publishAsync(metricsTopic(batch.uai, batch.agent), JSON.stringify(batch), { qos: 1 });
      const { topic, payload } = await received;
      const parsed = parseTopic(topic);
      expect(parsed.ok && parsed.topic.uai).toBe(batch.uai);
      const decoded = decodeMetrics(payload);
      expect(decoded).toEqual({ ok: true, value: batch });
    } finally {
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    }
  });

  it('writes a point to InfluxDB and reads it back with InfluxQL', async () => {
    await influx.query('CREATE DATABASE foundation');
    const t = Date.now();
    await influx.write(`ping,uai=0690001A,target=gw loss_pct=0,median_ms=1.5,sent=10i ${t}`, 'foundation');
    const rows = await influx.rows(
      "SELECT loss_pct, median_ms, sent FROM ping WHERE uai = '0690001A'",
      'foundation',
    );
    expect(rows).toEqual([{ time: t, loss_pct: 0, median_ms: 1.5, sent: 10 }]);
  });

  it('reads sysUpTime from the real snmpd', async () => {
    const [vb] = await snmpGet(snmpd.host, snmpd.port, snmpd.community, [SYS_UPTIME_OID]);
    expect(vb?.oid).toBe(SYS_UPTIME_OID);
    expect(typeof vb?.value).toBe('number');
    expect(vb!.value as number).toBeGreaterThanOrEqual(0);
  });
});
