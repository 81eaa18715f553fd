import type { Command } from 'commander';

export function registerDashboardCommands(program: Command): void {
  const dashboards = program.command('dashboards').description('Grafana dashboards and provisioning');
  dashboards
    .command('build')
    .description(
      'write the dashboards (JSON) and the Grafana provisioning files (datasource, provider) into DIR; ' +
        'mount DIR as /etc/grafana/provisioning',
    )
    .requiredOption('--out <dir>', 'output directory')
    .option('--lang <lang>', 'language of titles and descriptions: fr or en', 'fr')
    .option('--config <file>', 'a Vigie config file whose collector.alerts.thresholds override the defaults')
    .option('--influx-url <url>', 'InfluxDB URL as Grafana reaches it', 'http://influxdb:8086')
    .option('--database <name>', 'InfluxDB database', 'vigie')
    .option('--min-interval <interval>', "smallest $__interval (about the agents' measuring period)", '30s')
    .action(async (opts: Record<string, string>) => {
      const { runBuild } = await import('./run.ts');
      process.exitCode = await runBuild({
        out: opts['out']!,
        lang: opts['lang']!,
        config: opts['config'],
        influxUrl: opts['influxUrl']!,
        database: opts['database']!,
        minInterval: opts['minInterval']!,
      });
    });
}
