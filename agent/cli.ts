import type { Command } from 'commander';

export function registerAgentCommands(program: Command): void {
  program
    .command('agent')
    .description("run a school's measurement agent")
    .requiredOption('-c, --config <file>', 'YAML config file with an `agent:` section')
    .option('--once', 'run every configured probe once, print the samples and exit (nothing is published)')
    .option('--json', 'with --once: print one JSON document instead of a table')
    .addHelpText(
      'after',
      '\nRuns until SIGTERM or SIGINT, then spools what it measured, sends its last batches and a clean\n' +
        '`offline`. Exit codes: 0 ok, 2 bad config or a file it cannot open (each problem is printed), 1 any\n' +
        'other failure; with --once, 3 when the school cannot reach the internet (the verdict says why).',
    )
    .action(async (opts: { config: string; once?: boolean; json?: boolean }) => {
      const { runAgentCommand } = await import('./main.ts');
      process.exitCode = await runAgentCommand(opts);
    });
}
