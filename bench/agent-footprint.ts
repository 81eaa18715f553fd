// The agent's footprint at its default schedule, side by side with a bare Node process in the same
// run: RSS and CPU (its own and its ping children's) of
//   - bare node:      node -e "setInterval(()=>{},1e3)"
//   - agent via tsx:  node bin/vigie.js agent --config …   (what `npx vigie` runs from the repository)
//   - agent bundled:  one esbuild ESM file of agent/main.ts (a school's box runs a bundle, no tsx)
//   - the same bundle minified, with the Node flags of deploy/systemd/vigie-agent.service
//   - the deployed bundle (scripts/build-agent, the whole CLI) with the unit's flags: as installed
// all publishing to the real Mosquitto. Goal: RSS ≤ 1.5× bare node, CPU ≤ 1 % of a core.
//
//   npm run bench:agent -- [--seconds 300] [--sample 5]
// Every process runs on the bench's own Node. For the box's (scripts/pack-agent ships Node 24):
//   "$(scripts/node-runtime 24)/bin/node" --import tsx bench/agent-footprint.ts --seconds 60
// RSS moves by a few MiB from run to run with where glibc's malloc leaves the start-up's freed
// memory (compare ratios to bare node from the same run, and run twice).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import mqtt from 'mqtt';
import { sleep, tempDir } from '../test/harness/daemon.ts';
import { startMosquitto } from '../test/harness/mosquitto.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const seconds = Number(arg('seconds', process.env['BENCH_SECONDS'] ?? '300'));
const sampleS = Number(arg('sample', '5'));
/** Startup (module loading, JIT, first probe rounds) is reported apart from the steady state. */
const warmupS = Math.min(30, Math.floor(seconds / 5));
const CLK_TCK = 100;
const ROOT = join(import.meta.dirname, '..');
const UAI = '0690001B';

/** The Node flags the systemd unit starts the agent with, read from it so the bench stays in step. */
function unitNodeFlags(): string[] {
  const unit = readFileSync(join(ROOT, 'deploy/systemd/vigie-agent.service'), 'utf8');
  const exec = /^ExecStart=\S*node((?:\s+--\S+)*)\s/m.exec(unit);
  return exec?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}

interface Usage {
  /** user + system CPU seconds, including children already waited for (ping). */
  cpuS: number;
  rssKiB: number;
}

function usage(pid: number): Usage | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 (utime stime cutime cstime), counted from 1 with the pid: index 11-14 here.
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS: ticks / CLK_TCK, rssKiB: Number(rss?.[1] ?? 0) };
  } catch {
    return null;
  }
}

interface Subject {
  name: string;
  child: ChildProcess;
  agentId?: string;
  rss: number[];
  cpuAtWarmup?: number;
  cpuAtEnd?: number;
  batches: number;
}

async function bundleAgent(dir: string, minify: boolean): Promise<string> {
  const outfile = join(dir, minify ? 'agent.min.mjs' : 'agent.mjs');
  await build({
    stdin: {
      contents: [
        "import { runAgentCommand } from './agent/main.ts';",
        'process.exitCode = await runAgentCommand({ config: process.argv[2] });',
      ].join('\n'),
      resolveDir: ROOT,
      sourcefile: 'bench-agent-entry.ts',
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    logLevel: 'warning',
    legalComments: 'none',
    minify,
    // CommonJS packages in an ESM bundle still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);",
    },
  });
  return outfile;
}

function agentConfig(dir: string, id: string, url: string): string {
  const file = join(dir, `${id}.yaml`);
  // The default schedule: every probe at its defaults (local targets), only the broker and spool set.
  writeFileSync(
    file,
    JSON.stringify({ agent: { uai: UAI, id, mqtt: { url }, spool: { dir: join(dir, `spool-${id}`) } } }),
  );
  return file;
}

const mib = (kib: number) => (kib / 1024).toFixed(1);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

async function main(): Promise<void> {
  const dir = tempDir('bench-agent');
  const broker = await startMosquitto();
  const subjects: Subject[] = [];
  try {
    const bundle = await bundleAgent(dir, false);
    const minified = await bundleAgent(dir, true);
    const deployed = join(dir, 'vigie-agent.mjs');
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-agent'), deployed], { stdio: 'ignore' });
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'bench-agent-footprint' });
    await sub.subscribeAsync(`vigie/v1/${UAI}/+/metrics`, { qos: 1 });
    sub.on('message', (topic) => {
      const s = subjects.find((x) => x.agentId && topic.includes(`/${x.agentId}/`));
      if (s) s.batches++;
    });
    const env = { ...process.env, VIGIE_LOG_LEVEL: 'warn' };
    const start = (name: string, args: string[], agentId?: string) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
      subjects.push({ name, child, rss: [], batches: 0, ...(agentId ? { agentId } : {}) });
    };
    start('bare node', ['-e', 'setInterval(()=>{},1e3)']);
    start(
      'agent (tsx)',
      ['bin/vigie.js', 'agent', '--config', agentConfig(dir, 'bench-tsx', broker.url)],
      'bench-tsx',
    );
    start('agent (bundle)', [bundle, agentConfig(dir, 'bench-bundle', broker.url)], 'bench-bundle');
    const flags = unitNodeFlags();
    start(
      `agent (minified bundle ${flags.join(' ')})`,
      [...flags, minified, agentConfig(dir, 'bench-min', broker.url)],
      'bench-min',
    );
    start(
      `agent (deployed bundle ${flags.join(' ')})`,
      [...flags, deployed, 'agent', '--config', agentConfig(dir, 'bench-deployed', broker.url)],
      'bench-deployed',
    );
    start(`bare node ${flags.join(' ')}`, [...flags, '-e', 'setInterval(()=>{},1e3)']);

    process.stdout.write(
      `measuring for ${seconds} s (sample every ${sampleS} s, steady state after ${warmupS} s)...\n`,
    );
    const began = Date.now();
    let warmedAt = 0;
    for (let elapsed = 0; elapsed < seconds; elapsed = (Date.now() - began) / 1000) {
      await sleep(sampleS * 1000);
      const now = (Date.now() - began) / 1000;
      for (const s of subjects) {
        const u = usage(s.child.pid!);
        if (!u) throw new Error(`${s.name} exited early (code ${s.child.exitCode})`);
        if (now >= warmupS) s.rss.push(u.rssKiB);
        if (now >= warmupS && s.cpuAtWarmup === undefined) {
          s.cpuAtWarmup = u.cpuS;
          warmedAt = warmedAt || now;
        }
        s.cpuAtEnd = u.cpuS;
      }
    }
    const steadyS = (Date.now() - began) / 1000 - warmedAt;
    await sub.endAsync();

    const bare = subjects[0]!;
    const bareRss = mean(bare.rss);
    const rows = subjects.map((s) => {
      const cpuPct = (((s.cpuAtEnd ?? 0) - (s.cpuAtWarmup ?? 0)) / steadyS) * 100;
      const rss = mean(s.rss);
      return [
        s.name,
        mib(rss),
        mib(Math.max(...s.rss)),
        (rss / bareRss).toFixed(2),
        cpuPct.toFixed(3),
        (s.cpuAtEnd ?? 0).toFixed(2),
        s.agentId ? String(s.batches) : '-',
        s.agentId ? `${rss / bareRss <= 1.5 ? 'ok' : 'OVER'} / ${cpuPct <= 1 ? 'ok' : 'OVER'}` : '',
      ];
    });
    const head = [
      'process',
      'RSS MiB',
      'max MiB',
      'RSS ×bare',
      'CPU % core',
      'CPU s total',
      'batches',
      'goal RSS/CPU',
    ];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    process.stdout.write(
      `\nagent footprint over ${seconds} s on ${cpus().length} cores, Node ${process.version}, at the default schedule (steady state: last ${steadyS.toFixed(0)} s)\n`,
    );
    process.stdout.write(`${line(head)}\n${rows.map(line).join('\n')}\n`);
    process.stdout.write(
      "\nRSS ×bare = mean RSS over the steady state / bare node's; CPU includes ping children; goal: RSS ≤ 1.5×, CPU ≤ 1 %.\n",
    );
  } finally {
    for (const s of subjects) s.child.kill('SIGTERM');
    await sleep(1000);
    for (const s of subjects) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await broker.daemon.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
