// The README's main command as a newcomer runs it: `npm start` (no Mosquitto, no InfluxDB), a clean
// data folder, free ports. The board must show the schools in headless Chromium within 30 s of the
// command; Ctrl-C (SIGINT to the foreground process group, as a terminal sends it) must stop
// everything and leave no process; the points kept on disk must load into a real InfluxDB with
// `vigie replay` and answer queries.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_UAI } from '../../demo/config.ts';
import { type ChromiumHandle, startChromium } from '../harness/chromium.ts';
import { freePort, GiveUp, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const SCHOOLS = readFileSync(join(ROOT, 'examples/agglomeration.csv'), 'utf8').trim().split('\n').length - 1;
const run = promisify(execFile);

let chromium: ChromiumHandle;
let influx: InfluxHandle | undefined;
let demo: ChildProcess;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let output = '';
let dataDir: string;
let httpPort: number;
let brokerPort: number;
let spawnedAt: number;
/** The second run, killed with -9. */
let killed: { dataDir: string; brokerPort: number; httpPort: number } | undefined;

/** Processes still running that belong to this demo: its data folder or its broker port in their command line. */
function leftovers(run = { dataDir, brokerPort, httpPort }): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // gone meanwhile
    }
    if (
      cmd.includes(run.dataDir) ||
      cmd.includes(`:${run.brokerPort} `) ||
      cmd.includes(`--http-port ${run.httpPort}`)
    )
      found.push({ pid: Number(entry), cmd });
  }
  return found;
}

const nonEmptyLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  chromium = await startChromium();
  dataDir = tempDir('quickstart');
  httpPort = await freePort();
  brokerPort = await freePort();
  const env = { ...process.env };
  delete env['VIGIE_INFLUX_URL'];
  spawnedAt = Date.now();
  demo = spawn(
    'npm',
    ['start', '--', '--data', dataDir, '--http-port', String(httpPort), '--broker-port', String(brokerPort)],
    // Its own process group, as a terminal's foreground job: Ctrl-C goes to the whole group.
    { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  demo.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  demo.stderr!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  exited = new Promise((resolve) => demo.once('exit', (code, signal) => resolve({ code, signal })));
});

afterAll(async () => {
  if (demo.exitCode === null && demo.signalCode === null) {
    process.kill(-demo.pid!, 'SIGKILL');
    await exited;
  }
  for (const p of [...leftovers(), ...(killed ? leftovers(killed) : [])]) process.kill(p.pid, 'SIGKILL');
  await chromium?.close();
  await influx?.daemon.dispose();
});

describe('npm start on a fresh machine', () => {
  it('shows the board with every school on it within 30 s', async () => {
    const board = `http://127.0.0.1:${httpPort}/`;
    const left = () => Math.max(1000, spawnedAt + 30_000 - Date.now());
    await waitFor(
      'the board URL in the console',
      async () => {
        if (demo.exitCode !== null) throw new GiveUp(`npm start exited ${demo.exitCode}:\n${output}`);
        return output.includes(`Status board: ${board}`);
      },
      left(),
    );
    const page = await chromium.browser.newPage();
    await page.goto(board);
    // Every simulated school plus this machine, most of them online (a simulated outage may be under way).
    await page.waitForFunction(
      (n) =>
        document.querySelectorAll('.tile').length === n &&
        document.querySelectorAll('.tile[data-state="online"]').length >= n - 3,
      SCHOOLS + 1,
      { timeout: left() },
    );
    await page.waitForSelector(`.tile[data-uai="${DEMO_UAI}"][data-state="online"]`, { timeout: left() });
    const elapsed = Date.now() - spawnedAt;
    console.log(`quickstart: board with ${SCHOOLS + 1} schools ${elapsed} ms after \`npm start\``);
    expect(elapsed).toBeLessThan(30_000);
    expect(await page.locator('.tile[data-uai="0690001B"] .name').textContent()).toContain('Jean Jaurès');
    await page.screenshot({ path: join(ARTIFACTS, 'quickstart-board.png'), fullPage: true });
    await page.close();

    // One clear line says where the points go without InfluxDB, and how to load them later.
    const pointsLines = output.split('\n').filter((l) => l.includes('no InfluxDB configured'));
    expect(pointsLines).toHaveLength(1);
    expect(pointsLines[0]).toContain(join(dataDir, 'points.lp'));
    expect(pointsLines[0]).toContain('vigie replay');
    // Logs go to files; the console stays short.
    expect(output.split('\n').length).toBeLessThan(30);
    expect(output).not.toMatch(/"level":/);
    // The demo, its collector, agent and simulator: what the Ctrl-C test expects to see gone.
    expect(leftovers().length).toBeGreaterThanOrEqual(4);
    for (const name of ['collector', 'agent', 'simulator'])
      expect(existsSync(join(dataDir, 'logs', `${name}.log`))).toBe(true);
  });

  it('stops cleanly on Ctrl-C and leaves no process behind', async () => {
    // The agent's first batch carries its ping, DNS and HTTP samples against loopback.
    await waitFor(
      "this machine's probes in the points file",
      async () => {
        const mine = readFileSync(join(dataDir, 'points.lp'), 'utf8')
          .split('\n')
          .filter((l) => l.includes(`uai=${DEMO_UAI}`));
        return (
          mine.some((l) => l.startsWith('ping,') && l.includes('target=loopback')) &&
          mine.some((l) => l.startsWith('dns,') && l.includes('ok=true')) &&
          mine.some((l) => l.startsWith('http,') && l.includes('ok=true'))
        );
      },
      30_000,
      500,
    );
    expect(demo.exitCode).toBeNull();
    process.kill(-demo.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const end = await Promise.race([
      exited,
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), 45_000);
      }),
    ]);
    clearTimeout(timer);
    expect(end, output).not.toBe('timeout');
    // npm re-raises the SIGINT it was sent once its script is done; the demo itself ends cleanly.
    expect([0, 'SIGINT'], output).toContain(
      end === 'timeout' ? end : end.signal === 'SIGINT' ? end.signal : end.code,
    );
    expect(output).toContain('stopped. Points kept in');
    await waitFor('no demo process left', async () => leftovers().length === 0, 10_000, 200);
    // The collector confirmed everything it accepted before it stopped: nothing left in its log.
    const stopLine = readFileSync(join(dataDir, 'logs', 'collector.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"collector stopped"'))
      .map((l) => JSON.parse(l) as { walBytes: number; acceptedPoints: number; pointsWritten: number });
    expect(stopLine).toHaveLength(1);
    expect(stopLine[0]!.walBytes).toBe(0);
    expect(stopLine[0]!.acceptedPoints).toBeGreaterThan(100);
    expect(stopLine[0]!.pointsWritten).toBeGreaterThanOrEqual(stopLine[0]!.acceptedPoints);
    // The agent and the simulated schools said goodbye before the collector went.
    expect(readFileSync(join(dataDir, 'logs', 'agent.log'), 'utf8')).toContain('"agent stopped"');
    expect(readFileSync(join(dataDir, 'logs', 'simulator.log'), 'utf8')).toContain('graceful offline');
  });

  it('loads the kept points into InfluxDB with `vigie replay`, and they answer queries', async () => {
    influx ??= await startInfluxdb();
    const points = join(dataDir, 'points.lp');
    const lines = nonEmptyLines(points);
    const replay = (file: string, db: string) =>
      run(process.execPath, ['bin/vigie.js', 'replay', file, '--influx', influx!.url, '--database', db], {
        cwd: ROOT,
      }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    const first = await replay(points, 'quickstart');
    expect(first.out).toContain(`loaded ${lines.length} of ${lines.length} points`);
    expect(first.code).toBe(0);

    const schools = await influx.rows('SHOW TAG VALUES FROM "batch" WITH KEY = "uai"', 'quickstart');
    expect(schools).toHaveLength(SCHOOLS + 1);
    const batches = lines.filter((l) => l.startsWith('batch,')).length;
    const [count] = await influx.rows('SELECT count("seq") FROM "quickstart"."raw"."batch"', 'quickstart');
    expect(count!['count']).toBe(batches);
    const [mine] = await influx.rows(
      `SELECT count("loss_pct") FROM "quickstart"."raw"."ping" WHERE "uai" = '${DEMO_UAI}'`,
      'quickstart',
    );
    expect(mine!['count']).toBeGreaterThan(0);
    const online = await influx.rows(
      `SELECT "state" FROM "quickstart"."raw"."presence" WHERE "scope" = 'school' AND "state" = 'online'`,
      'quickstart',
    );
    expect(online.length).toBeGreaterThanOrEqual(SCHOOLS);

    // Again: the same points, nothing doubled.
    expect((await replay(points, 'quickstart')).code).toBe(0);
    const [again] = await influx.rows('SELECT count("seq") FROM "quickstart"."raw"."batch"', 'quickstart');
    expect(again!['count']).toBe(batches);

    // A damaged line is refused with its number; every other point still loads.
    const damaged = join(dataDir, 'damaged.lp');
    // And a point from 2001, past the raw policy's 90 days: InfluxDB drops it, the replay says so.
    const ancient = 'ping,uai=0690001B,agent=sim-1,target=anchor loss_pct=0 1000000000000';
    writeFileSync(
      damaged,
      [...lines.slice(0, 50), 'ping,uai=broken loss_pct=', ...lines.slice(50), ancient].join('\n'),
    );
    const bad = await replay(damaged, 'quickstart_damaged');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`loaded ${lines.length} of ${lines.length + 2} points`);
    expect(bad.out).toContain('1 points were older than retention policy "raw" keeps');
    expect(bad.out).toMatch(/refused 1 lines[\s\S]*line 51:/);
  });

  it('leaves no process behind even when the demo itself is killed with -9', async () => {
    killed = {
      dataDir: tempDir('quickstart-kill'),
      brokerPort: await freePort(),
      httpPort: await freePort(),
    };
    let text = '';
    const proc = spawn(
      process.execPath,
      [
        'bin/vigie.js',
        'demo',
        '--data',
        killed.dataDir,
        '--http-port',
        String(killed.httpPort),
        '--broker-port',
        String(killed.brokerPort),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const gone = new Promise((resolve) => proc.once('exit', resolve));
    await waitFor('the demo up', async () => text.includes('Status board:'), 60_000, 200);
    const run = killed;
    await waitFor(
      'collector, agent and simulator running',
      async () => leftovers(run).length >= 4,
      20_000,
      200,
    );
    proc.kill('SIGKILL');
    await gone;
    // Each child sees its parent gone within a second and stops itself cleanly.
    await waitFor('no process of the killed demo left', async () => leftovers(run).length === 0, 30_000, 250);
    expect(readFileSync(join(run.dataDir, 'logs', 'collector.log'), 'utf8')).toContain('"collector stopped"');
  });

  it('writes to InfluxDB instead when one is given', async () => {
    influx ??= await startInfluxdb();
    const db = influx;
    const run = {
      dataDir: tempDir('quickstart-influx'),
      brokerPort: await freePort(),
      httpPort: await freePort(),
    };
    let text = '';
    const proc = spawn(
      process.execPath,
      [
        'bin/vigie.js',
        'demo',
        '--influx',
        db.url,
        '--interval',
        '4',
        '--data',
        run.dataDir,
        '--http-port',
        String(run.httpPort),
        '--broker-port',
        String(run.brokerPort),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const append = (d: Buffer) => {
      text += d.toString();
    };
    proc.stdout.on('data', append);
    proc.stderr.on('data', append);
    const code = new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
    try {
      await waitFor('the demo up', async () => text.includes('Status board:'), 60_000, 200);
      expect(text).toContain(`points        written to InfluxDB at ${db.url}`);
      expect(text).not.toContain('no InfluxDB configured');
      await waitFor(
        'a batch of every school in InfluxDB',
        async () =>
          (await db.rows('SHOW TAG VALUES FROM "batch" WITH KEY = "uai"', 'vigie')).length === SCHOOLS + 1,
        30_000,
        500,
      );
      const [mine] = await db.rows(
        `SELECT count("time_ms") FROM "vigie"."raw"."dns" WHERE "uai" = '${DEMO_UAI}'`,
        'vigie',
      );
      expect(mine!['count']).toBeGreaterThan(0);
    } finally {
      proc.kill('SIGINT');
    }
    expect(await code, text).toBe(0);
    expect(existsSync(join(run.dataDir, 'points.lp'))).toBe(false);
    await waitFor('no process of this demo left', async () => leftovers(run).length === 0, 10_000, 200);
  });
});
