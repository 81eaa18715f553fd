// `vigie demo` (what `npm start` runs): the collector with its embedded broker, this machine's agent
// probing loopback targets only, and a simulated fleet, each a child process running the real
// `vigie` command with its log in the data folder; the console gets a few lines a technician reads.
// Ctrl-C stops the fleet and the agent first (they say goodbye), then the collector, then exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadRegistry, RegistryError } from '../shared/registry.ts';
import {
  DEMO_AGENT,
  DEMO_BROKER_HOST,
  DEMO_DNS_NAME,
  type DemoSettings,
  demoConfig,
  demoPaths,
  demoRegistryCsv,
  localAddress,
} from './config.ts';
import { type DnsResponder, startDnsResponder } from './dns-responder.ts';
import { changes, fleetLine, promCounter, type SchoolBrief } from './status.ts';

export interface DemoCommandOptions {
  data: string;
  host: string;
  httpPort: string;
  brokerPort: string;
  influx?: string;
  schools?: string;
  interval: string;
  outages: string;
  seed: string;
}

// Compiled (dist/demo/main.js, scripts/build) or run from the sources through tsx: the children
// run the same kind of code as the demo itself.
const COMPILED = import.meta.url.endsWith('.js');
const ROOT = fileURLToPath(new URL(COMPILED ? '../..' : '..', import.meta.url));
const CHILD = fileURLToPath(new URL(COMPILED ? './child.js' : './child.ts', import.meta.url));
const LOADER = COMPILED ? [] : ['--import', import.meta.resolve('tsx')];
/** The collector must answer within this; a first start compiles the TypeScript on a slow machine. */
const COLLECTOR_START_MS = 90_000;
/** A child that ignores SIGTERM this long is killed. */
const STOP_GRACE_MS = 20_000;
const POLL_MS = 2000;
const SUMMARY_EVERY_MS = 30_000;

class UsageError extends Error {}

function port(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`--${name} must be a port number from 1 to 65535, got "${value}"`);
  return n;
}

function positive(name: string, value: string, zero = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || (zero ? n < 0 : n <= 0))
    throw new UsageError(`--${name} must be a number ${zero ? '≥ 0' : '> 0'}, got "${value}"`);
  return n;
}

function portFree(host: string, p: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen(p, host, () => srv.close(() => done(true)));
  });
}

const isLoopback = (host: string) => /^127\./.test(host) || host === '::1' || host === 'localhost';

/** This machine's own addresses, for the board link shown to other screens (nothing is sent to them). */
function lanAddresses(): string[] {
  const found = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
  return found.length ? found : ['THIS-MACHINE'];
}

const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
};

interface Child {
  name: string;
  log: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  done: boolean;
}

function startChild(name: string, args: string[], log: string): Child {
  const fd = openSync(log, 'a');
  // Its own process group: a Ctrl-C reaches the demo only, which stops each child once, in order.
  const proc = spawn(process.execPath, [...LOADER, CHILD, ...args], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, VIGIE_DEMO_PID: String(process.pid) },
  });
  closeSync(fd);
  const child: Child = {
    name,
    log,
    proc,
    done: false,
    exited: new Promise((resolveExit) => {
      proc.once('exit', (code, signal) => {
        child.done = true;
        resolveExit(code ?? (signal ? 128 : null));
      });
      proc.once('error', () => {
        child.done = true;
        resolveExit(null);
      });
    }),
  };
  return child;
}

async function stopChild(c: Child): Promise<void> {
  if (c.done) return;
  c.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    c.exited.then(() => true),
    new Promise<false>((r) => {
      timer = setTimeout(() => r(false), STOP_GRACE_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!inTime) killGroup(c);
  await c.exited;
}

/** The child and what it spawned (the agent's ping processes). */
function killGroup(c: Child): void {
  if (c.done || c.proc.pid === undefined) return;
  try {
    process.kill(-c.proc.pid, 'SIGKILL');
  } catch {
    c.proc.kill('SIGKILL');
  }
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function getText(url: string): Promise<string | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(POLL_MS) });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

export async function runDemoCommand(
  opts: DemoCommandOptions,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  let settings: DemoSettings;
  let schoolCount: number;
  let intervalS: number;
  let outages: number;
  const registryFile = resolve(opts.schools ?? `${ROOT}/examples/agglomeration.csv`);
  try {
    const httpPort = port('http-port', opts.httpPort);
    const brokerPort = port('broker-port', opts.brokerPort);
    intervalS = positive('interval', opts.interval);
    outages = positive('outages', opts.outages, true);
    if (opts.influx !== undefined && !/^https?:\/\/./.test(opts.influx))
      throw new UsageError(`--influx must be a URL such as http://127.0.0.1:8086, got "${opts.influx}"`);
    schoolCount = loadRegistry(registryFile).size;
    if (schoolCount === 0) throw new UsageError(`${registryFile} lists no school`);
    for (const [what, host, p] of [
      ['--broker-port', DEMO_BROKER_HOST, brokerPort],
      ['--http-port', opts.host, httpPort],
    ] as const) {
      if (!(await portFree(host, p)))
        throw new UsageError(
          `port ${p} on ${host} is taken (${p === 1883 ? 'a Mosquitto already running? ' : ''}another demo?): choose another with ${what}`,
        );
    }
    settings = {
      dataDir: resolve(opts.data),
      host: opts.host,
      brokerPort,
      httpPort,
      dnsPort: 0,
      intervalS,
      influxUrl: opts.influx,
      registryFile,
      // Loopback reads without a token; another machine needs one.
      readToken: isLoopback(opts.host) ? undefined : randomBytes(16).toString('hex'),
    };
  } catch (err) {
    if (err instanceof UsageError || err instanceof RegistryError) {
      process.stderr.write(`vigie demo: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const paths = demoPaths(settings.dataDir);
  mkdirSync(paths.logs, { recursive: true });
  const dns: DnsResponder = await startDnsResponder(DEMO_DNS_NAME.split('.').slice(1).join('.'));
  settings.dnsPort = dns.port;
  writeFileSync(paths.registry, demoRegistryCsv(readFileSync(registryFile, 'utf8')));
  writeFileSync(
    paths.config,
    `# Written by \`vigie demo\` at each start (edit the command's options, not this file).\n${stringify(demoConfig(settings))}`,
  );

  const loopback = localAddress(settings.host);
  const api = `http://${loopback}:${settings.httpPort}`;
  const broker = `mqtt://${DEMO_BROKER_HOST}:${settings.brokerPort}`;
  const sink = settings.influxUrl ? `InfluxDB ${settings.influxUrl}` : shown(paths.points);
  out(
    `Vigie demo: a collector with its own MQTT broker, this machine's agent and ${schoolCount} simulated schools (${shown(registryFile)}).`,
  );
  out(`  MQTT broker   ${broker}  (embedded in the collector: no Mosquitto needed; this machine only)`);
  out(
    settings.influxUrl
      ? `  points        written to InfluxDB at ${settings.influxUrl}, database "vigie"`
      : `  points        no InfluxDB configured: points go to ${shown(paths.points)} (line protocol, nothing lost); load them later with \`npx vigie replay ${shown(paths.points)} --influx http://HOST:8086\``,
  );
  out(
    `  this machine  agent "${DEMO_AGENT}" pings 127.0.0.1, resolves ${DEMO_DNS_NAME} on 127.0.0.1:${dns.port}, fetches the collector's /healthz and board; nothing beyond loopback`,
  );
  out(
    `  logs          ${shown(paths.logs)}/ (collector.log, agent.log, simulator.log); config ${shown(paths.config)}`,
  );
  if (settings.readToken)
    out(
      `  other screens ${lanAddresses()
        .map((a) => `http://${a}:${settings.httpPort}/#token=${settings.readToken}`)
        .join('  ')}`,
    );
  out('  Ctrl-C stops everything.');

  const children: Child[] = [];
  let stopping: Promise<void> | null = null;
  let stopAskedAt = 0;
  let failure: string | null = null;
  const stopAll = () => {
    stopping ??= (async () => {
      // Agents first, so they say goodbye to a collector still listening; the collector last.
      await Promise.all(children.filter((c) => c.name !== 'collector').map(stopChild));
      await Promise.all(children.filter((c) => c.name === 'collector').map(stopChild));
      await dns.close();
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (!stopAskedAt) {
      stopAskedAt = now;
      out(
        `${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping the simulated schools and this machine's agent, then the collector…`,
      );
      void stopAll();
    } else if (now - stopAskedAt > 2000) {
      // npm forwards the terminal's Ctrl-C too: only a second one, later, means "now".
      out('stopping at once (processes killed)');
      for (const c of children) killGroup(c);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // Whatever happens to the demo, its children go with it.
  const onExit = () => {
    for (const c of children) killGroup(c);
  };
  process.on('exit', onExit);

  const watch = (c: Child) => {
    void c.exited.then((code) => {
      if (stopping) return;
      failure = `${c.name} stopped unexpectedly (exit code ${code}); last lines of ${shown(c.log)}:\n${tail(c.log)}`;
      void stopAll();
    });
  };

  const collector = startChild(
    'collector',
    ['collector', '--config', paths.config],
    `${paths.logs}/collector.log`,
  );
  children.push(collector);
  watch(collector);
  const started = Date.now();
  let ready = false;
  while (!ready && !stopping && Date.now() - started < COLLECTOR_START_MS) {
    ready = (await getText(`${api}/healthz`)) !== null;
    if (!ready) await new Promise((r) => setTimeout(r, 250));
  }
  if (!ready && !stopping) {
    failure = `the collector did not answer on ${api} within ${COLLECTOR_START_MS / 1000} s; last lines of ${shown(collector.log)}:\n${tail(collector.log)}`;
    void stopAll();
  }

  if (!stopping) {
    out(`Status board: ${api}/   (collector up in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    for (const [name, args] of [
      ['agent', ['agent', '--config', paths.config]],
      [
        'simulator',
        [
          'simulate',
          '--agents',
          String(schoolCount),
          '--broker',
          broker,
          '--schools',
          registryFile,
          '--interval',
          String(intervalS),
          '--outages',
          String(outages),
          '--seed',
          opts.seed,
          '--progress',
          '60',
        ],
      ],
    ] as const) {
      const c = startChild(name, [...args], `${paths.logs}/${name}.log`);
      children.push(c);
      watch(c);
    }
    await followFleet(api, sink, schoolCount, () => stopping !== null, out);
  }
  await stopAll();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  process.off('exit', onExit);
  if (failure) {
    process.stderr.write(`vigie demo: ${failure}\n`);
    return 1;
  }
  out(
    settings.influxUrl
      ? 'stopped.'
      : existsSync(paths.points)
        ? `stopped. Points kept in ${shown(paths.points)}: \`npx vigie replay ${shown(paths.points)} --influx http://HOST:8086\` loads them.`
        : 'stopped.',
  );
  return 0;
}

/** Polls the collector's API until the demo stops, printing milestones, changes and a periodic summary. */
async function followFleet(
  api: string,
  sink: string,
  simulated: number,
  stopped: () => boolean,
  out: (line: string) => void,
): Promise<void> {
  const since = Date.now();
  let prev = new Map<string, SchoolBrief>();
  // The first summary once the points have had time to reach the file, then every 30 s.
  let lastSummary = since - SUMMARY_EVERY_MS / 2;
  let allReporting = false;
  let apiDown = false;
  while (!stopped()) {
    const text = await getText(`${api}/api/schools`);
    const now = Date.now();
    if (text === null) {
      if (!apiDown && !stopped())
        out(`the collector's API at ${api} does not answer; see the collector's log`);
      apiDown = true;
    } else {
      apiDown = false;
      const schools = (JSON.parse(text) as { schools: SchoolBrief[] }).schools;
      for (const line of changes(prev, schools, now)) out(line);
      prev = new Map(schools.map((s) => [s.uai, s]));
      const heard = schools.filter((s) => s.state !== 'unknown').length;
      const milestone = !allReporting && heard >= simulated + 1;
      if (milestone) {
        allReporting = true;
        out(
          `all ${heard} schools are reporting, ${((now - since) / 1000).toFixed(0)} s after the collector came up`,
        );
      }
      if (now - lastSummary >= SUMMARY_EVERY_MS) {
        lastSummary = now;
        const metrics = await getText(`${api}/metrics`);
        out(
          fleetLine(
            {
              schools,
              pointsWritten:
                metrics === null ? null : promCounter(metrics, 'vigie_collector_points_written_total'),
              rejected: metrics === null ? null : promCounter(metrics, 'vigie_collector_rejected_total'),
              sink,
            },
            now,
          ),
        );
      }
    }
    const until = Date.now() + POLL_MS;
    while (!stopped() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  }
}
