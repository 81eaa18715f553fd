// The quick start: `vigie demo` (what `npm start` runs) and `vigie replay`, which loads the points the
// demo (or any collector with `pointsFile`) kept on disk into InfluxDB.
import type { Command } from 'commander';

export function registerQuickstartCommands(program: Command): void {
  program
    .command('demo')
    .description(
      "see Vigie work on this machine: collector with embedded broker, this machine's agent (loopback targets only) and a simulated fleet",
    )
    .option('--data <dir>', 'folder for the config, logs, spools and points', '.vigie/demo')
    .option('--http-port <port>', 'status board and HTTP API', '8080')
    .option('--broker-port <port>', 'the embedded MQTT broker', '1883')
    .option(
      '--host <addr>',
      "where the board listens; 0.0.0.0 opens it to the network (with a printed token). The demo's MQTT broker has no accounts: it stays on 127.0.0.1",
      '127.0.0.1',
    )
    .option(
      '--influx <url>',
      'write to this InfluxDB (v1 HTTP API) instead of the points file (or VIGIE_INFLUX_URL)',
      process.env['VIGIE_INFLUX_URL'] || undefined,
    )
    .option('--schools <file>', 'registry of the simulated schools (default examples/agglomeration.csv)')
    .option('--interval <s>', 'seconds between two batches of every agent', '10')
    .option(
      '--outages <rate>',
      'simulated outages per school per hour (WAN cut, power cut, degraded link)',
      '0.2',
    )
    .option('--seed <k>', 'simulation seed: same seed, same schools, samples and outages', '1')
    .action(async (opts) => {
      const { runDemoCommand } = await import('./main.ts');
      process.exitCode = await runDemoCommand(opts);
    });

  program
    .command('replay')
    .description('load a points file (line protocol kept without InfluxDB) into InfluxDB')
    .argument('<file>', 'the points file, e.g. .vigie/demo/points.lp')
    .requiredOption('--influx <url>', 'InfluxDB v1 HTTP API, e.g. http://127.0.0.1:8086')
    .option('--database <name>', 'database', 'vigie')
    .option('--rp <name>', "retention policy (the collector's raw one)", 'raw')
    .option('--username <user>', 'InfluxDB user')
    .option(
      '--password <password>',
      'InfluxDB password (or VIGIE_INFLUX_PASSWORD)',
      process.env['VIGIE_INFLUX_PASSWORD'],
    )
    .option('--batch <points>', 'points per write', '5000')
    .option('--no-manage', 'do not create the database, retention policies and rollups')
    .action(async (file: string, opts) => {
      const { runReplayCommand } = await import('../collector/replay.ts');
      process.exitCode = await runReplayCommand(file, { ...opts, batchPoints: opts.batch });
    });
}
