// Entry of the single-file agent bundle (scripts/build-agent): the `vigie` CLI without tsx, so a
// school's box needs Node and this one file, no node_modules. Only the commands a box runs are
// listed: `agent` and `config check` (the server's would only answer that they are not there).
import { Command } from 'commander';
import { registerAgentCommands } from '../agent/cli.ts';
import { registerConfigCommands } from '../cli/config-cli.ts';
import { main, VERSION } from '../cli/main.ts';

function agentProgram(): Command {
  const program = new Command('vigie')
    .description(
      "Vigie's school agent: measures the school's internet access and publishes it to the collector.",
    )
    .version(VERSION)
    .exitOverride();
  registerAgentCommands(program);
  registerConfigCommands(program);
  return program;
}

process.exitCode = await main(process.argv, agentProgram());
