// A tiny authoritative DNS responder on loopback, standing in for the school's resolver in the demo:
// the machine's own resolver may sit on the network, and the demo probes nothing beyond loopback.
// Names under the demo's zone get an A record 127.0.0.1; anything else NXDOMAIN; never recursive.
import { createSocket, type Socket } from 'node:dgram';

export interface DnsResponder {
  port: number;
  queries: number;
  close(): Promise<void>;
}

const TYPE_A = 1;

/** The answer to one query, or undefined for a packet that is not a well-formed question. */
export function answerQuery(msg: Buffer, zone: string): Buffer | undefined {
  if (msg.length < 17 || (msg[2]! & 0x80) !== 0) return undefined; // too short, or a response
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i]! > 0) {
    if (msg[i]! > 63) return undefined; // compression pointers do not belong in a question
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString('ascii'));
    i += msg[i]! + 1;
  }
  const end = i + 5; // zero byte, QTYPE, QCLASS
  if (end > msg.length) return undefined;
  const qtype = msg.readUInt16BE(i + 1);
  const name = labels.join('.').toLowerCase();
  const inZone = name === zone || name.endsWith(`.${zone}`);
  const withA = inZone && qtype === TYPE_A;
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, 2);
  // QR, AA, RD copied; NOERROR in the zone (empty for other types), NXDOMAIN outside.
  header.writeUInt16BE(0x8400 | ((msg[2]! & 0x01) << 8) | (inZone ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(withA ? 1 : 0, 6);
  const parts = [header, msg.subarray(12, end)];
  if (withA) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    Buffer.from([127, 0, 0, 1]).copy(rr, 12);
    parts.push(rr);
  }
  return Buffer.concat(parts);
}

export async function startDnsResponder(zone: string, host = '127.0.0.1', port = 0): Promise<DnsResponder> {
  const socket: Socket = createSocket('udp4');
  const handle: DnsResponder = {
    port: 0,
    queries: 0,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (msg, rinfo) => {
    const reply = answerQuery(msg, zone.toLowerCase());
    if (!reply) return;
    handle.queries++;
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve());
  });
  socket.on('error', () => {}); // a send to a vanished client is not the demo's problem
  handle.port = socket.address().port;
  return handle;
}
