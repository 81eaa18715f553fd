// A stand-in for school agents, run as its own process: one MQTT connection per school with the agent's
// birth and will, a metrics batch every interval. `kill -9` of the process, or "drop UAI" on stdin
// (the socket destroyed, no DISCONNECT), looks to the broker exactly like a box losing power.
import { createInterface } from 'node:readline';
import mqtt, { type MqttClient } from 'mqtt';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';

interface StandinSpec {
  url: string;
  schools: string[];
  agent: string;
  keepaliveS: number;
  intervalMs: number;
  seqStart: number;
  /** Schools whose anchor answers nothing (100 % loss): degraded for as long as they report. */
  degraded?: string[];
}

const spec = JSON.parse(process.argv[2]!) as StandinSpec;
const clients = new Map<string, { client: MqttClient; timer: NodeJS.Timeout }>();
const status = (uai: string, state: 'online' | 'offline', reason: 'birth' | 'will') =>
  JSON.stringify({ v: 1, uai, agent: spec.agent, state, t: Date.now(), reason });

async function connect(uai: string): Promise<void> {
  const client = await mqtt.connectAsync(spec.url, {
    clientId: `standin-${uai}-${spec.agent}`,
    keepalive: spec.keepaliveS,
    reconnectPeriod: 0,
    will: {
      topic: statusTopic(uai, spec.agent),
      payload: Buffer.from(status(uai, 'offline', 'will')),
      qos: 1,
      retain: true,
    },
  });
  await client.publishAsync(statusTopic(uai, spec.agent), status(uai, 'online', 'birth'), {
    qos: 1,
    retain: true,
  });
  let seq = spec.seqStart;
  const anchorLost = spec.degraded?.includes(uai) ?? false;
  const publish = () => {
    const t = Date.now();
    const samples = [
      {
        probe: 'ping',
        t,
        target: 'gateway',
        role: 'gateway',
        sent: 10,
        received: 10,
        lossPct: 0,
        medianMs: 0.4,
      },
      {
        probe: 'ping',
        t,
        target: 'anchor',
        role: 'anchor',
        sent: 10,
        ...(anchorLost ? { received: 0, lossPct: 100 } : { received: 10, lossPct: 0, medianMs: 12 }),
      },
    ];
    client.publish(
      metricsTopic(uai, spec.agent),
      JSON.stringify({ v: 1, uai, agent: spec.agent, seq: seq++, t, samples }),
      {
        qos: 1,
      },
    );
  };
  publish();
  clients.set(uai, { client, timer: setInterval(publish, spec.intervalMs) });
}

await Promise.all(spec.schools.map(connect));
process.stdout.write('ready\n');

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, uai] = line.trim().split(/\s+/);
  const c = uai ? clients.get(uai) : undefined;
  if (cmd === 'drop' && c) {
    clearInterval(c.timer);
    c.client.stream.destroy();
    clients.delete(uai!);
    process.stdout.write(`dropped ${uai}\n`);
  }
});
