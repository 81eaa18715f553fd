// The SNMP side of the wan and wifi probes against real agents: Net-SNMP's snmpd (IF-MIB of this
// machine, lo's counters) and net-snmp's in-process agent playing a router and an access point
// whose MIB the test controls (64-bit counters past 2^53, 32-bit wraps and resets, reboots, radios
// going down).
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import snmp from 'net-snmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { decodeCounter64, OID } from '../../agent/probes/snmp.ts';
import { WanProbe } from '../../agent/probes/wan.ts';
import { WifiProbe } from '../../agent/probes/wifi.ts';
import { createLogger } from '../../shared/log.ts';
import { decodeMetrics } from '../../shared/validate.ts';
import { freePort, sleep, waitFor } from '../harness/daemon.ts';
import { type SnmpdHandle, snmpGet, startSnmpd } from '../harness/snmpd.ts';

const log = createLogger('probe-test', 'silent');
const ctxAt = (t: number) => ({ signal: new AbortController().signal, now: () => t, log });
const ctxNow = () => ({ signal: new AbortController().signal, now: () => Date.now(), log });

function rejected(...samples: unknown[]): string | undefined {
  const d = decodeMetrics(
    JSON.stringify({ v: 1, uai: '0750001U', agent: 'box', seq: 0, t: Date.now(), samples }),
  );
  return d.ok ? undefined : d.error;
}

/** In agent mode net-snmp needs Counter64 as exactly 8 bytes. */
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};

const RO = snmp.MaxAccess['read-only'];

/** A device MIB: sysUpTime, ifTable (descr, oper status), ifXTable (name, HC octets), a station table. */
async function startDevice(
  ifaces: { index: number; name: string; up: boolean; inOctets: bigint; outOctets: bigint }[],
) {
  const port = await freePort();
  const agent = snmp.createAgent({ port, address: '127.0.0.1', disableAuthorization: false }, () => {});
  agent.getAuthorizer().addCommunity('public');
  const mib = agent.getMib();
  mib.registerProvider({
    name: 'sysUpTime',
    type: snmp.MibProviderType.Scalar,
    oid: '1.3.6.1.2.1.1.3',
    scalarType: snmp.ObjectType.TimeTicks,
    maxAccess: RO,
  });
  mib.registerProvider({
    name: 'ifEntry',
    type: snmp.MibProviderType.Table,
    oid: '1.3.6.1.2.1.2.2.1',
    maxAccess: snmp.MaxAccess['not-accessible'],
    tableColumns: [
      { number: 1, name: 'ifIndex', type: snmp.ObjectType.Integer, maxAccess: RO },
      { number: 2, name: 'ifDescr', type: snmp.ObjectType.OctetString, maxAccess: RO },
      { number: 8, name: 'ifOperStatus', type: snmp.ObjectType.Integer, maxAccess: RO },
    ],
    tableIndex: [{ columnName: 'ifIndex' }],
  });
  mib.registerProvider({
    name: 'ifXEntry',
    type: snmp.MibProviderType.Table,
    oid: '1.3.6.1.2.1.31.1.1.1',
    maxAccess: snmp.MaxAccess['not-accessible'],
    tableColumns: [
      { number: 1, name: 'ifName', type: snmp.ObjectType.OctetString, maxAccess: RO },
      { number: 6, name: 'ifHCInOctets', type: snmp.ObjectType.Counter64, maxAccess: RO },
      { number: 10, name: 'ifHCOutOctets', type: snmp.ObjectType.Counter64, maxAccess: RO },
    ],
    tableIndex: [{ columnName: 'ifIndex', foreign: 'ifEntry' }],
  });
  // A vendor station table: one row per associated client.
  mib.registerProvider({
    name: 'stationEntry',
    type: snmp.MibProviderType.Table,
    oid: '1.3.6.1.4.1.99999.1.1.1',
    maxAccess: snmp.MaxAccess['not-accessible'],
    tableColumns: [
      { number: 1, name: 'stationIndex', type: snmp.ObjectType.Integer, maxAccess: RO },
      { number: 2, name: 'stationMac', type: snmp.ObjectType.OctetString, maxAccess: RO },
    ],
    tableIndex: [{ columnName: 'stationIndex' }],
  });
  mib.setScalarValue('sysUpTime', 100_000);
  for (const i of ifaces) {
    mib.addTableRow('ifEntry', [i.index, i.name, i.up ? 1 : 2]);
    mib.addTableRow('ifXEntry', [i.index, i.name, u64(i.inOctets), u64(i.outOctets)]);
  }
  for (let s = 1; s <= 3; s++) mib.addTableRow('stationEntry', [s, `02:00:00:00:00:0${s}`]);
  return {
    port,
    setUptime: (ticks: number) => mib.setScalarValue('sysUpTime', ticks),
    setCounters: (index: number, inOctets: bigint, outOctets: bigint) => {
      mib.setTableSingleCell('ifXEntry', 6, [index], u64(inOctets));
      mib.setTableSingleCell('ifXEntry', 10, [index], u64(outOctets));
    },
    setOper: (index: number, up: boolean) => mib.setTableSingleCell('ifEntry', 8, [index], up ? 1 : 2),
    close: () => agent.close(),
  };
}

/**
 * A router with IF-MIB's ifTable only (no ifXTable, as many small routers and every SNMPv1 agent):
 * octet counters are Counter32, the speed is ifSpeed (bit/s).
 */
async function startCounter32Router(ifaces: { index: number; name: string; speedBps: number }[]) {
  const port = await freePort();
  const agent = snmp.createAgent({ port, address: '127.0.0.1', disableAuthorization: false }, () => {});
  agent.getAuthorizer().addCommunity('public');
  const mib = agent.getMib();
  mib.registerProvider({
    name: 'sysUpTime',
    type: snmp.MibProviderType.Scalar,
    oid: '1.3.6.1.2.1.1.3',
    scalarType: snmp.ObjectType.TimeTicks,
    maxAccess: RO,
  });
  mib.registerProvider({
    name: 'ifEntry',
    type: snmp.MibProviderType.Table,
    oid: '1.3.6.1.2.1.2.2.1',
    maxAccess: snmp.MaxAccess['not-accessible'],
    tableColumns: [
      { number: 1, name: 'ifIndex', type: snmp.ObjectType.Integer, maxAccess: RO },
      { number: 2, name: 'ifDescr', type: snmp.ObjectType.OctetString, maxAccess: RO },
      { number: 5, name: 'ifSpeed', type: snmp.ObjectType.Gauge32, maxAccess: RO },
      { number: 10, name: 'ifInOctets', type: snmp.ObjectType.Counter32, maxAccess: RO },
      { number: 16, name: 'ifOutOctets', type: snmp.ObjectType.Counter32, maxAccess: RO },
    ],
    tableIndex: [{ columnName: 'ifIndex' }],
  });
  mib.setScalarValue('sysUpTime', 100_000);
  for (const i of ifaces) mib.addTableRow('ifEntry', [i.index, i.name, i.speedBps, 0, 0]);
  return {
    port,
    /** One moment on the router: its uptime (1/100 s) and each interface's [in, out] octets. */
    set: (uptimeTicks: number, counters: Record<number, [number, number]>) => {
      mib.setScalarValue('sysUpTime', uptimeTicks);
      for (const [index, [inOctets, outOctets]] of Object.entries(counters)) {
        mib.setTableSingleCell('ifEntry', 10, [Number(index)], inOctets);
        mib.setTableSingleCell('ifEntry', 16, [Number(index)], outOctets);
      }
    },
    close: () => agent.close(),
  };
}

/** Pushes `bytes` through the loopback interface over a TCP connection. */
async function loopbackTraffic(bytes: number) {
  const server = createServer((s) => s.resume());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const sock = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const chunk = Buffer.alloc(64 * 1024);
  for (let sent = 0; sent < bytes; sent += chunk.length) if (!sock.write(chunk)) await once(sock, 'drain');
  await new Promise<void>((r) => sock.end(r));
  await new Promise<void>((r) => server.close(() => r()));
}

let snmpd: SnmpdHandle;
beforeAll(async () => {
  snmpd = await startSnmpd();
}, 30_000);
afterAll(async () => {
  await snmpd?.daemon.stop();
});

describe('wan probe over SNMP', () => {
  it('reads lo through the real snmpd and sees the traffic the box counters see', async () => {
    const cfg = resolveProbesConfig({
      wan: {
        interfaces: ['lo'],
        routers: [{ host: '127.0.0.1', port: snmpd.port, name: 'snmpd', interfaces: ['lo'] }],
      },
    });
    const probe = new WanProbe(cfg.wan, { contractedMbps: { down: 1000, up: 1000 } });
    const loIn = async () =>
      decodeCounter64(
        (await snmpGet('127.0.0.1', snmpd.port, 'public', [`${OID.ifHCInOctets}.1`]))[0]!.value,
      );
    const before = await loIn();
    // Both sources' windows lie inside [start, now]: rate × that span bounds their bytes from above.
    const start = Date.now();
    // A rate needs two readings: the router's first round writes nothing, the box primes itself.
    expect((await probe.run(ctxNow())).map((s) => s.source)).toEqual(['box']);
    const trafficAt = Date.now();
    await loopbackTraffic(8 * 1024 * 1024);
    // snmpd caches IF-MIB for a few seconds, systeminformation for 500 ms: wait until both are fresh.
    await waitFor(
      'snmpd to count the traffic',
      async () => (await loIn()) - before > 8n * 1024n * 1024n,
      15_000,
      250,
    );
    await sleep(Math.max(0, 600 - (Date.now() - trafficAt)));
    const samples = await probe.run(ctxNow());
    const elapsedS = (Date.now() - start) / 1000;
    expect(rejected(...samples)).toBeUndefined();
    const router = samples.find((s) => s.source === 'snmp');
    const box = samples.find((s) => s.source === 'box');
    expect(router).toMatchObject({ iface: 'snmpd:lo' });
    expect(router!.counterReset).toBeUndefined();
    expect(box).toMatchObject({ iface: 'lo' });
    for (const s of [router!, box!]) {
      // On lo every byte sent is also received: at least the 8 MiB we pushed, each way.
      expect((s.inBps * elapsedS) / 8).toBeGreaterThan(8 * 1024 * 1024 * 0.9);
      expect((s.outBps * elapsedS) / 8).toBeGreaterThan(8 * 1024 * 1024 * 0.9);
      expect(s.inPct).toBeCloseTo((s.inBps / 1e9) * 100, 2);
    }
  }, 30_000);

  it('decodes 64-bit counters past 2^53; a 64-bit counter going back and a router reboot are resets', async () => {
    const base = (1n << 64n) - 75_000_000n;
    const dev = await startDevice([
      { index: 3, name: 'wan0', up: true, inOctets: base, outOctets: 1n << 60n },
    ]);
    try {
      const cfg = resolveProbesConfig({
        wan: {
          interfaces: [],
          routers: [{ host: '127.0.0.1', port: dev.port, name: 'r', interfaces: ['wan0'] }],
        },
      });
      const probe = new WanProbe(cfg.wan, { contractedMbps: { down: 20, up: 10 } });
      const t0 = 1_800_000_000_000;
      dev.setUptime(100_000);
      expect(await probe.run(ctxAt(t0))).toEqual([]);

      // 60 s later: in moved 75 MB up to just under 2^64, out 15 MB above 2^60 (beyond 2^53).
      dev.setUptime(106_000);
      dev.setCounters(3, (1n << 64n) - 1n, (1n << 60n) + 15_000_000n);
      const [plain] = await probe.run(ctxAt(t0 + 60_000));
      expect(plain).toEqual({
        probe: 'wan',
        t: t0 + 60_000,
        source: 'snmp',
        iface: 'r:wan0',
        inBps: 10_000_000,
        outBps: 2_000_000,
        inPct: 50,
        outPct: 20,
      });

      // "Past 2^64" to 37.5 MB: a 64-bit counter going back is a reset, never a wrap (2^64 bytes is
      // centuries at any line rate), even with the uptime going on.
      dev.setUptime(112_000);
      dev.setCounters(3, 37_499_999n, (1n << 60n) + 15_000_000n);
      const [wrapped] = await probe.run(ctxAt(t0 + 120_000));
      expect(wrapped).toMatchObject({ counterReset: true, inBps: 0, outBps: 0 });

      // Rebooted: uptime back to 30 s, counters restarted small.
      dev.setUptime(3_000);
      dev.setCounters(3, 1_000n, 2_000n);
      const [reset] = await probe.run(ctxAt(t0 + 180_000));
      expect(reset).toMatchObject({ counterReset: true, inBps: 0, outBps: 0 });
      expect(reset!.inPct).toBeUndefined();

      // And the next round is a plain rate again.
      dev.setUptime(9_000);
      dev.setCounters(3, 1_000n + 7_500_000n, 2_000n);
      const [after] = await probe.run(ctxAt(t0 + 240_000));
      expect(after).toMatchObject({ inBps: 1_000_000, outBps: 0 });
      expect(after!.counterReset).toBeUndefined();
      expect(rejected(plain, wrapped, reset, after)).toBeUndefined();
    } finally {
      dev.close();
    }
  }, 30_000);
});

describe('wan probe over SNMP, 32-bit counters (ifInOctets/ifOutOctets)', () => {
  it('tells a genuine wrap from a reset by link speed, both directions and sysUpTime', async () => {
    const TWO_32 = 2 ** 32;
    const router = await startCounter32Router([
      { index: 1, name: 'wan0', speedBps: 100e6 }, // a wrap at 100 Mbit/s
      { index: 2, name: 'wan1', speedBps: 1e9 }, // a reset after 3.5e9 / 9e8 bytes
      { index: 3, name: 'wan2', speedBps: 10e6 }, // a "wrap" 10 times faster than the link
    ]);
    try {
      const cfg = resolveProbesConfig({
        wan: {
          interfaces: [],
          routers: [
            { host: '127.0.0.1', port: router.port, name: 'r32', interfaces: ['wan0', 'wan1', 'wan2'] },
          ],
        },
      });
      const probe = new WanProbe(cfg.wan);
      const t0 = 1_800_000_000_000;
      router.set(100_000, {
        1: [TWO_32 - 300_000_000, 900_000_000],
        2: [3_500_000_000, 900_000_000],
        3: [TWO_32 - 400_000_000, 1_000],
      });
      expect(await probe.run(ctxAt(t0))).toEqual([]);

      // 30 s later, no reboot (uptime went on).
      router.set(103_000, {
        1: [75_000_000, 937_500_000], // in wrapped after 375 MB: 100 Mbit/s; out 10 Mbit/s
        2: [40_000_000, 8_000_000], // both back: the interface's counters were reset
        3: [5_000_000, 2_000], // 405 MB in 30 s = 108 Mbit/s through a 10 Mbit/s port
      });
      const [wrap, reset, tooFast] = await probe.run(ctxAt(t0 + 30_000));
      expect(wrap).toEqual({
        probe: 'wan',
        t: t0 + 30_000,
        source: 'snmp',
        iface: 'r32:wan0',
        inBps: 100_000_000,
        outBps: 10_000_000,
      });
      // The decision before issue 14 read 222.7 / 907.5 Mbit/s here.
      expect(reset).toEqual({
        probe: 'wan',
        t: t0 + 30_000,
        source: 'snmp',
        iface: 'r32:wan1',
        inBps: 0,
        outBps: 0,
        counterReset: true,
      });
      expect(tooFast).toMatchObject({ iface: 'r32:wan2', counterReset: true, inBps: 0, outBps: 0 });

      // The router rebooted 10 s ago: every interface is a reset, even wan1 whose counters rose.
      router.set(1_000, { 1: [1_000_000, 2_000_000], 2: [50_000_000, 9_000_000], 3: [1_000, 1_000] });
      const rebooted = await probe.run(ctxAt(t0 + 60_000));
      expect(rebooted.map((s) => [s.iface, s.counterReset])).toEqual([
        ['r32:wan0', true],
        ['r32:wan1', true],
        ['r32:wan2', true],
      ]);

      // Then plain rates again: 37.5 MB and 3.75 MB in 30 s.
      router.set(4_000, { 1: [38_500_000, 2_000_000], 2: [50_000_000, 12_750_000], 3: [1_000, 1_000] });
      const after = await probe.run(ctxAt(t0 + 90_000));
      expect(after.map((s) => [s.iface, s.inBps, s.outBps, s.counterReset])).toEqual([
        ['r32:wan0', 10_000_000, 0, undefined],
        ['r32:wan1', 0, 1_000_000, undefined],
        ['r32:wan2', 0, 0, undefined],
      ]);
      expect(rejected(wrap, reset, tooFast, ...rebooted, ...after)).toBeUndefined();
    } finally {
      router.close();
    }
  }, 30_000);

  it('reads Counter32 through SNMPv1, which cannot carry Counter64', async () => {
    const router = await startCounter32Router([{ index: 7, name: 'adsl0', speedBps: 20e6 }]);
    try {
      const cfg = resolveProbesConfig({
        wan: {
          interfaces: [],
          routers: [{ host: '127.0.0.1', port: router.port, version: '1', interfaces: ['adsl0'] }],
        },
      });
      const probe = new WanProbe(cfg.wan, { contractedMbps: { down: 20, up: 1 } });
      const t0 = 1_800_000_000_000;
      router.set(100_000, { 7: [2 ** 32 - 10_000_000, 1_000] });
      expect(await probe.run(ctxAt(t0))).toEqual([]);
      // 60 s later: in wrapped after 75 MB (10 Mbit/s, half the contract), out 750 kB.
      router.set(106_000, { 7: [65_000_000, 751_000] });
      const [s] = await probe.run(ctxAt(t0 + 60_000));
      expect(s).toEqual({
        probe: 'wan',
        t: t0 + 60_000,
        source: 'snmp',
        iface: '127.0.0.1:adsl0',
        inBps: 10_000_000,
        outBps: 100_000,
        inPct: 50,
        outPct: 10,
      });
    } finally {
      router.close();
    }
  }, 30_000);
});

describe('wifi probe', () => {
  it('follows an access point through radios going down, a reboot and SNMP going silent', async () => {
    const dev = await startDevice([
      { index: 1, name: 'eth0', up: true, inOctets: 0n, outOctets: 0n },
      { index: 2, name: 'wlan0', up: true, inOctets: 0n, outOctets: 0n },
      { index: 3, name: 'wlan1', up: false, inOctets: 0n, outOctets: 0n },
    ]);
    const cfg = resolveProbesConfig({
      wifi: {
        snmpTimeoutS: 0.5,
        accessPoints: [
          { name: 'ap-hall', host: '127.0.0.1', port: dev.port, clientsOid: '1.3.6.1.4.1.99999.1.1.1.2' },
        ],
      },
    });
    const probe = new WifiProbe(cfg.wifi);
    const t0 = 1_800_000_000_000;
    try {
      dev.setUptime(100_000);
      const [first] = await probe.run(ctxAt(t0));
      expect(first).toEqual({
        probe: 'wifi',
        t: t0,
        ap: 'ap-hall',
        up: true,
        reachable: true,
        uptimeS: 1000,
        radiosUp: 1,
        radiosTotal: 2,
        clients: 3,
      });

      dev.setUptime(106_000);
      dev.setOper(2, false);
      const [radiosOff] = await probe.run(ctxAt(t0 + 60_000));
      expect(radiosOff).toMatchObject({
        up: false,
        reachable: true,
        radiosUp: 0,
        radiosTotal: 2,
        rebooted: false,
      });

      dev.setUptime(1_500);
      dev.setOper(2, true);
      const [rebooted] = await probe.run(ctxAt(t0 + 120_000));
      expect(rebooted).toMatchObject({ up: true, rebooted: true, uptimeS: 15 });
      expect(rejected(first, radiosOff, rebooted)).toBeUndefined();
    } finally {
      dev.close();
    }
    // SNMP silent but the host answers ping: reachable and up, the SNMP failure named.
    const [silent] = await probe.run(ctxAt(t0 + 180_000));
    expect(silent).toMatchObject({ up: true, reachable: true, error: 'SNMP_TIMEOUT' });
    expect(silent!.radiosTotal).toBeUndefined();
  }, 30_000);

  it('reads the real snmpd: radios by name pattern, none by default', async () => {
    const cfg = resolveProbesConfig({
      wifi: {
        accessPoints: [
          { name: 'lo-as-radio', host: '127.0.0.1', port: snmpd.port, radioPattern: '^lo$' },
          { name: 'no-radio', host: '127.0.0.1', port: snmpd.port },
          { name: 'ping-only', host: '127.0.0.1', snmp: false },
        ],
      },
    });
    const [lo, none, pingOnly] = await new WifiProbe(cfg.wifi).run(ctxNow());
    expect(lo).toMatchObject({ up: true, reachable: true, radiosUp: 1, radiosTotal: 1 });
    expect(lo!.uptimeS).toBeGreaterThan(0);
    expect(none).toMatchObject({ up: true, reachable: true, radiosUp: 0, radiosTotal: 0 });
    expect(pingOnly).toEqual({ probe: 'wifi', t: pingOnly!.t, ap: 'ping-only', up: true, reachable: true });
    expect(rejected(lo, none, pingOnly)).toBeUndefined();
  }, 30_000);

  it('stops waiting for a silent SNMP agent when the probe is cut', async () => {
    // A UDP socket that reads and never answers.
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    try {
      const cfg = resolveProbesConfig({
        wifi: {
          snmpTimeoutS: 10,
          accessPoints: [{ name: 'mute', host: '127.0.0.1', port: silent.address().port }],
        },
      });
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 200);
      const started = Date.now();
      const [s] = await new WifiProbe(cfg.wifi).run({ signal: abort.signal, now: () => Date.now(), log });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(s).toMatchObject({ ap: 'mute', reachable: true, up: true, error: 'ABORTED' });
    } finally {
      silent.close();
    }
  }, 15_000);
});
