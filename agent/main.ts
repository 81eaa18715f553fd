// `vigie agent`: load the config, then either measure once and print, or run until SIGTERM/SIGINT.
// Exit codes: 0 ok, 2 bad config (the ConfigError is printed), 1 any other failure.
import pino from 'pino';
import { ConfigError } from '../shared/config.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { startFileProblems } from '../shared/start-files.ts';
import { Agent } from './agent.ts';
import type { AgentConfig } from './config.ts';
import { agentStartFiles, loadAgentConfig } from './config-file.ts';
import { formatTable, ONCE_NO_INTERNET, onceReport, onceVerdict, runOnce } from './once.ts';
import { createProbes, type ProbeDeps } from './probes/index.ts';
import type { ScheduledProbe } from './scheduler.ts';
import { Spool } from './spool.ts';
import { AGENT_VERSION } from './version.ts';

/** Past this, a stop that hangs (a broker that never answers) gives way to exit code 1. */
const STOP_DEADLINE_MS = 15_000;

export interface AgentCommandOptions {
  config: string;
  once?: boolean;
  json?: boolean;
}

export async function runAgentCommand(opts: AgentCommandOptions): Promise<number> {
  let config: AgentConfig;
  let overrides: string[];
  let warnings: string[];
  try {
    const loaded = loadAgentConfig(opts.config);
    config = loaded.config.agent;
    overrides = loaded.overrides;
    warnings = loaded.warnings;
    // A CA or spool folder that is not there would not come by retrying: say it and stop (--once opens neither).
    const files = opts.once ? [] : startFileProblems(agentStartFiles(config));
    if (files.length) throw new ConfigError(opts.config, files);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // With --once the table owns stdout: logs go to stderr.
  // With --once the table says every failure: logs (and their stack traces) only when asked for.
  const log = opts.once
    ? createLogger('agent', process.env['VIGIE_LOG_LEVEL'] ?? 'silent', pino.destination(2))
    : createLogger('agent');
  for (const o of overrides) log.info(`override from environment: ${o}`);
  for (const w of warnings) log.warn(w);
  try {
    return opts.once ? await once(config, log, opts.json ?? false) : await run(config, log);
  } catch (err) {
    log.error({ err }, 'agent failed');
    process.stderr.write(`vigie agent: ${(err as Error).message}\n`);
    return 1;
  }
}

function scheduled(config: AgentConfig, deps: ProbeDeps): ScheduledProbe[] {
  return createProbes(config.probes, deps);
}

async function once(config: AgentConfig, log: Logger, json: boolean): Promise<number> {
  const probes = scheduled(config, {
    log,
    version: AGENT_VERSION,
    // Nothing is spooled by --once, and the running agent's spool is not ours to open.
    spoolStats: () => ({ bytes: 0, batches: 0, dropped: 0 }),
    contractedMbps: config.contractedMbps,
    ignoreSpeedtestSchedule: true,
  });
  try {
    const outcomes = await runOnce(probes, log);
    const report = onceReport(config.uai, config.id, Date.now(), outcomes);
    const { verdict } = onceVerdict(report);
    process.stdout.write(json ? `${JSON.stringify({ ...report, verdict }, null, 2)}\n` : formatTable(report));
    // The installer's check: a school that cannot reach the internet is a failure, whatever ran.
    return verdict === 'no_internet' ? ONCE_NO_INTERNET : 0;
  } finally {
    await Promise.all(probes.map(async (p) => p.probe.close?.()));
    exitSoon();
  }
}

async function run(config: AgentConfig, log: Logger): Promise<number> {
  const spool = await Spool.open(config.spool.dir, config.spool.maxBytes);
  const probes = scheduled(config, {
    log,
    version: AGENT_VERSION,
    spoolStats: () => spool.stats,
    contractedMbps: config.contractedMbps,
  });
  const agent = new Agent({ config, spool, probes, log, version: AGENT_VERSION });
  // A library error escaping every handler: say so in the journal and exit; systemd restarts the
  // agent and the spool keeps every batch already written.
  const fatal = (err: unknown) => {
    log.fatal({ err }, 'unexpected error: exiting for a clean restart');
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  agent.start();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal }, 'stopping');
  let deadline: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    agent.stop().then(() => true),
    new Promise<false>((resolve) => {
      deadline = setTimeout(() => resolve(false), STOP_DEADLINE_MS);
    }),
  ]);
  clearTimeout(deadline);
  exitSoon();
  if (!stopped) log.error({ afterMs: STOP_DEADLINE_MS }, 'stop did not finish in time');
  return stopped ? 0 : 1;
}

/** A probe library that leaves a socket or a timer open must not keep the process alive once done. */
function exitSoon(): void {
  setTimeout(() => process.exit(), 2000).unref();
}
