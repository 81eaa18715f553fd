// docker-compose.yml cannot run here (no Docker engine): these tests check everything it refers to.
// The site folder is made the way docs/deploy.md says (make-pki.sh, `vigie enroll`, `vigie dashboards
// build`); every other file the stack mounts or builds from must be in the repo.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadVigieConfig } from '../../cli/config-file.ts';
import { HEALTH_PASSWORD, HEALTH_USER } from '../../deploy/acl.ts';
import { MAX_PAYLOAD_BYTES } from '../../shared/schemas.ts';
import { tempDir } from '../harness/daemon.ts';
import { REPO } from './deploy-pki.ts';

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  volumes?: string[];
  env_file?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  profiles?: string[];
  command?: string[];
}
const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = Object.entries(compose.services);
let site: string;

/** Compose interpolation: ${VAR:-default}, ${VAR:?error}, ${VAR}; `$$` is a literal dollar. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (all, name, op, arg) => {
    if (all === '$$') return '$';
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`${name} is required: ${arg}`);
    return op === '-' ? arg : '';
  });
}

const SECRETS = { GRAFANA_ADMIN_PASSWORD: 'g', INFLUXDB_ADMIN_PASSWORD: 'i', INFLUXDB_GRAFANA_PASSWORD: 'r' };

/** Host side of a bind mount, resolved as compose does (relative to the compose file). */
function hostPath(source: string, env: Record<string, string>): string {
  const p = interpolate(source, env);
  return isAbsolute(p) ? p : join(REPO, p);
}

/** Short-syntax volumes `source:/target[:ro]`; the source may hold `${VAR:-default}`. */
function mounts(svc: Service) {
  return (svc.volumes ?? []).map((raw) => {
    const m = /^(.+?):(\/[^:]*)(?::(?:ro|rw))?$/.exec(raw);
    if (!m) throw new Error(`cannot read volume "${raw}"`);
    return { source: m[1]!, target: m[2]!, bind: /^[.$/]/.test(raw) };
  });
}

beforeAll(() => {
  // The site folder, step by step as docs/deploy.md does it.
  site = tempDir('deploy-site');
  const vigie = (...args: string[]) =>
    execFileSync(process.execPath, [join(REPO, 'bin/vigie.js'), ...args], { cwd: REPO, stdio: 'pipe' });
  copyFileSync(join(REPO, 'examples/schools.csv'), join(site, 'schools.csv'));
  execFileSync('sh', [join(REPO, 'deploy/make-pki.sh'), join(site, 'tls'), 'mqtt.example.org', 'mosquitto'], {
    stdio: 'pipe',
  });
  vigie(
    'enroll',
    '--schools',
    join(site, 'schools.csv'),
    '--out',
    join(site, 'enroll'),
    '--broker',
    'mqtts://mqtt.example.org:8883',
  );
}, 120_000);

/** `vigie dashboards build --out site/grafana`, once: the Grafana part of the site folder. */
let grafanaBuilt = false;
function buildGrafana(): void {
  if (grafanaBuilt) return;
  execFileSync(
    process.execPath,
    [join(REPO, 'bin/vigie.js'), 'dashboards', 'build', '--out', join(site, 'grafana')],
    {
      cwd: REPO,
      stdio: 'pipe',
    },
  );
  grafanaBuilt = true;
}

afterAll(() => {
  if (site) rmSync(site, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('mounts only files that exist: the repo’s, or the site folder’s made by the documented steps', () => {
    const env = { ...SECRETS, VIGIE_SITE_DIR: site };
    const missing: string[] = [];
    let fromSite = 0;
    for (const [name, svc] of services) {
      const sources = [
        ...mounts(svc)
          .filter((m) => m.bind)
          .map((m) => m.source),
        ...(svc.env_file ?? []),
      ];
      for (const source of sources) {
        const path = hostPath(source, env);
        if (source.includes('VIGIE_SITE_DIR')) fromSite++;
        // Defaults of other variables point into the repo: that is what runs when they are unset.
        else
          expect(relative(REPO, path).startsWith('..'), `${name}: ${source} is outside the repo`).toBe(false);
        if (!existsSync(path)) missing.push(`${name}: ${source} (${path})`);
      }
    }
    expect(missing).toEqual([]);
    expect(fromSite).toBeGreaterThan(5);
  });

  it('builds the collector from a Dockerfile in the repo whose build context holds all the CLI needs', async () => {
    const builds = services.filter(([, s]) => s.build);
    expect(builds.map(([n]) => n)).toEqual(['collector']);
    const { context, dockerfile = 'Dockerfile' } = builds[0]![1].build!;
    const dockerfilePath = join(REPO, context, dockerfile);
    expect(existsSync(dockerfilePath)).toBe(true);
    const text = readFileSync(dockerfilePath, 'utf8');
    for (const [, src] of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const file of src!.split(/\s+/)) expect(existsSync(join(REPO, context, file)), file).toBe(true);
    }
    expect(text).toMatch(/^USER node$/m);
    // Every source file `vigie` loads (lazy imports included) must survive .dockerignore.
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const isIgnored = (file: string) =>
      ignored.some((pattern) => {
        const re = new RegExp(
          `^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`,
        );
        return re.test(file) || re.test(file.split('/').pop()!);
      });
    const result = await build({
      entryPoints: [join(REPO, 'bin/vigie.js'), join(REPO, 'cli/main.ts')],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outdir: join(site, 'esbuild'),
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules'));
    expect(inputs.length).toBeGreaterThan(20);
    expect(inputs.filter(isIgnored)).toEqual([]);
    for (const needed of ['package.json', 'package-lock.json', 'bin/vigie.js', 'collector/main.ts'])
      expect(isIgnored(needed), needed).toBe(false);
    for (const secret of ['site/enroll/credentials.json', '.env', 'test/unit/x.test.ts', 'node_modules/x'])
      expect(isIgnored(secret), secret).toBe(true);
  });

  it('uses no default password: every secret is required from the environment', () => {
    const offenders: string[] = [];
    for (const [name, svc] of services) {
      for (const [key, value] of Object.entries(svc.environment ?? {})) {
        if (!/PASSWORD|SECRET|TOKEN/i.test(key)) continue;
        if (!/^\$\{[A-Z0-9_]+:\?[^}]+\}$/.test(String(value))) offenders.push(`${name}.${key}=${value}`);
      }
    }
    expect(offenders).toEqual([]);
    // Without any secret set, compose must refuse to interpolate the file.
    for (const [, svc] of services)
      for (const value of Object.values(svc.environment ?? {}))
        if (String(value).includes(':?')) expect(() => interpolate(String(value), {})).toThrow(/required/);
    // Images that fall back to a built-in credential when unset get one, and InfluxDB has auth on.
    const env = (s: string) => compose.services[s]!.environment!;
    expect(env('grafana')['GF_SECURITY_ADMIN_PASSWORD']).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    expect(env('grafana')['GF_AUTH_ANONYMOUS_ENABLED']).toBe('false');
    expect(env('influxdb')['INFLUXDB_HTTP_AUTH_ENABLED']).toBe('true');
    // The collector's MQTT password comes from the enrolled env file, 256 random bits.
    const collectorEnv = readFileSync(join(site, 'enroll/collector.env'), 'utf8');
    expect(/VIGIE_COLLECTOR__MQTT__PASSWORD=([A-Za-z0-9_-]{43})$/m.test(collectorEnv)).toBe(true);
    expect(statSync(join(site, 'enroll/collector.env')).mode & 0o777).toBe(0o600);
    // The broker's public listener takes no anonymous client.
    const conf = readFileSync(join(REPO, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
    const tls = conf.slice(conf.indexOf('listener 8883'), conf.indexOf('listener 1883'));
    expect(tls).toMatch(/^allow_anonymous false$/m);
    expect(tls).toMatch(/^password_file /m);
    expect(tls).toMatch(/^acl_file /m);
    // The broker must carry the largest batch the contract allows, topic and headers included.
    const maxPacket = Number(/^max_packet_size (\d+)$/m.exec(conf)?.[1]);
    expect(maxPacket).toBeGreaterThanOrEqual(MAX_PAYLOAD_BYTES + 1024);
  });

  it('publishes MQTT over TLS only; web UIs on the host loopback; the database not at all', () => {
    const published: string[] = [];
    for (const [name, svc] of services) for (const p of svc.ports ?? []) published.push(`${name} ${p}`);
    const open = published.filter((p) => !/ 127\.0\.0\.1:/.test(p));
    expect(open).toEqual(['mosquitto 8883:8883']);
    expect(compose.services['influxdb']!.ports).toBeUndefined();
  });

  it("checks the broker's health through the loopback listener's one account, which nothing else can use", () => {
    const conf = readFileSync(join(REPO, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
    const health = conf.slice(conf.indexOf('listener 1883 127.0.0.1'));
    expect(health).toMatch(/^allow_anonymous false$/m);
    expect(health).toMatch(/^use_username_as_clientid true$/m);
    expect(health).toMatch(/^password_file \/mosquitto\/enroll\/health-passwd$/m);
    expect(health).toMatch(/^acl_file \/mosquitto\/enroll\/health-acl$/m);
    const test = compose.services['mosquitto']!.healthcheck!.test;
    const arg = (flag: string) => test[test.indexOf(flag) + 1];
    expect([arg('-h'), arg('-p'), arg('-u'), arg('-P')]).toEqual([
      '127.0.0.1',
      '1883',
      HEALTH_USER,
      HEALTH_PASSWORD,
    ]);
    // enroll writes the files the listener reads, into the folder compose mounts.
    for (const f of ['health-passwd', 'health-acl'])
      expect(existsSync(join(site, 'enroll/mosquitto', f)), f).toBe(true);
  });

  it('gives every service a healthcheck, and Alertmanager is an opt-in profile', () => {
    for (const [name, svc] of services) expect(svc.healthcheck?.test?.length, name).toBeGreaterThan(1);
    expect(compose.services['alertmanager']!.profiles).toEqual(['alertmanager']);
    const optional = services.filter(([, s]) => s.profiles).map(([n]) => n);
    expect(optional).toEqual(['alertmanager']);
  });

  it('mounts every path the broker and the collector configs name inside their containers', () => {
    const targets = (svc: string) => mounts(compose.services[svc]!).map((m) => m.target);
    const covered = (svc: string, path: string) =>
      targets(svc).some((t) => path === t || path.startsWith(`${t.replace(/\/$/, '')}/`));
    const conf = readFileSync(join(REPO, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
    const brokerPaths = [
      ...conf.matchAll(/^(?:cafile|certfile|keyfile|password_file|acl_file|persistence_location) (\S+)$/gm),
    ].map((m) => m[1]!);
    expect(brokerPaths.length).toBe(8);
    for (const p of brokerPaths) expect(covered('mosquitto', p), p).toBe(true);

    const collectorEnv = Object.fromEntries(
      readFileSync(join(site, 'enroll/collector.env'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const env = {
      ...collectorEnv,
      ...compose.services['collector']!.environment,
      VIGIE_COLLECTOR__INFLUX__PASSWORD: 'x',
    };
    const { config } = loadVigieConfig(join(REPO, 'deploy/collector.yaml'), env);
    const c = config.collector!;
    expect(c.mqtt?.username).toBe('vigie-collector');
    expect(c.mqtt?.password).toBe(collectorEnv['VIGIE_COLLECTOR__MQTT__PASSWORD']);
    expect(c.influx.password).toBe('x');
    // The broker certificate must carry the name the collector dials.
    expect(new URL(c.mqtt!.url).hostname).toBe('mosquitto');
    const san = execFileSync('openssl', [
      'x509',
      '-in',
      join(site, 'tls/server.crt'),
      '-noout',
      '-ext',
      'subjectAltName',
    ]);
    expect(String(san)).toContain('DNS:mosquitto');
    for (const p of [c.schools!, c.mqtt!.ca!, c.wal.dir]) expect(covered('collector', p), p).toBe(true);
  });

  it('provisions Grafana from the dashboards build with the InfluxDB read credential', () => {
    const grafana = compose.services['grafana']!;
    const mount = mounts(grafana).find((m) => m.target === '/etc/grafana/provisioning')!;
    // The default build in the repo, and a site's own build pointed at by VIGIE_GRAFANA_DIR.
    buildGrafana();
    const builds = [
      hostPath(mount.source, {}),
      hostPath(mount.source, { VIGIE_GRAFANA_DIR: join(site, 'grafana') }),
    ];
    expect(builds).toEqual([join(REPO, 'deploy/grafana'), join(site, 'grafana')]);
    for (const build of builds) {
      const ds = readFileSync(join(build, 'datasources/vigie.yaml'), 'utf8');
      for (const [, name] of ds.matchAll(/\$\{?([A-Z][A-Z0-9_]+)\}?/g)) {
        expect(Object.keys(grafana.environment!), `the datasource reads $${name}`).toContain(name);
      }
      expect(ds).toContain('http://influxdb:8086');
      // The provider points inside the mounted folder.
      const provider = parse(readFileSync(join(build, 'dashboards/vigie.yaml'), 'utf8'));
      const path: string = provider.providers[0].options.path;
      expect(path.startsWith('/etc/grafana/provisioning/')).toBe(true);
      expect(existsSync(join(build, path.slice('/etc/grafana/provisioning/'.length), 'fleet.json'))).toBe(
        true,
      );
    }
    expect(grafana.environment!['VIGIE_INFLUX_USER']).toBe(
      compose.services['influxdb']!.environment!['INFLUXDB_READ_USER'],
    );
  });

  it('ships an Alertmanager config that amtool accepts', () => {
    const out = execFileSync('amtool', ['check-config', join(REPO, 'deploy/alertmanager/alertmanager.yml')]);
    expect(String(out)).toContain('SUCCESS');
  });
});
