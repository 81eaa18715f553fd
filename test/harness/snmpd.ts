// A real Net-SNMP snmpd on a free loopback UDP port, read-only community "public".
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import snmp from 'net-snmp';
import { Daemon, freePort, tempDir } from './daemon.ts';

export const SYS_UPTIME_OID = '1.3.6.1.2.1.1.3.0';

export interface SnmpdHandle {
  daemon: Daemon;
  port: number;
  host: string;
  community: string;
  dir: string;
}

export function snmpGet(
  host: string,
  port: number,
  community: string,
  oids: string[],
): Promise<snmp.Varbind[]> {
  return new Promise((resolve, reject) => {
    const session = snmp.createSession(host, community, {
      port,
      timeout: 1000,
      retries: 0,
      version: snmp.Version2c,
    });
    session.get(oids, (err, varbinds) => {
      session.close();
      if (err) reject(err);
      else resolve(varbinds ?? []);
    });
  });
}

export async function startSnmpd(extraConfig = ''): Promise<SnmpdHandle> {
  const dir = tempDir('snmpd');
  const port = await freePort();
  const community = 'public';
  const conf = `rocommunity ${community} 127.0.0.1
sysLocation Vigie test
sysContact vigie@test.invalid
${extraConfig}
`;
  const confFile = join(dir, 'snmpd.conf');
  writeFileSync(confFile, conf);
  const daemon = new Daemon({
    name: 'snmpd',
    binary: 'snmpd',
    // -f foreground, -Lo log to stdout, -C only our config, -p pid file in our dir.
    args: ['-f', '-Lo', '-C', '-c', confFile, '-p', join(dir, 'snmpd.pid'), `udp:127.0.0.1:${port}`],
    dir,
    env: { SNMP_PERSISTENT_DIR: join(dir, 'persist'), MIBS: '' },
    ready: async () => (await snmpGet('127.0.0.1', port, community, [SYS_UPTIME_OID])).length === 1,
  });
  await daemon.start();
  return { daemon, port, host: '127.0.0.1', community, dir };
}
