// The `vigie` command. Each area registers its own subcommands and loads its code lazily,
// so `vigie --help` stays fast and the agent never loads collector code.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerAgentCommands } from '../agent/cli.ts';
import { registerCollectorCommands } from '../collector/cli.ts';
import { registerDashboardCommands } from '../dashboards/cli.ts';
import { registerQuickstartCommands } from '../demo/cli.ts';
import { registerDeployCommands } from '../deploy/cli.ts';
import { registerReportCommands } from '../report/cli.ts';
import { registerSimulatorCommands } from '../simulator/cli.ts';
import { registerConfigCommands } from './config-cli.ts';
import { dropLibraryDeprecations, nodeRuntimeWarning, showsRuntimeWarning } from './node-support.ts';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export function buildProgram(): Command {
  const program = new Command('vigie')
    .description(
      'Vigie watches the internet access of primary schools: agents measure, the collector stores and alerts.',
    )
    .version(VERSION)
    .exitOverride();
  registerAgentCommands(program);
  registerCollectorCommands(program);
  registerDashboardCommands(program);
  registerDeployCommands(program);
  registerSimulatorCommands(program);
  registerConfigCommands(program);
  registerQuickstartCommands(program);
  registerReportCommands(program);
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 runtime failure, 2 bad usage or bad config. */
export async function main(argv: string[], program: Command = buildProgram()): Promise<number> {
  dropLibraryDeprecations();
  const eol = nodeRuntimeWarning(process.version, new Date());
  if (eol && showsRuntimeWarning(argv, Boolean(process.stderr.isTTY))) process.stderr.write(eol);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`vigie: ${(err as Error).message}\n`);
    return 1;
  }
}
