import type { Command } from 'commander';

export function registerSimulatorCommands(program: Command): void {
  program
    .command('simulate')
    .description(
      'run N simulated school agents speaking the real protocol (birth, will, sequences, realistic samples, outages)',
    )
    .requiredOption('-n, --agents <n>', 'number of simulated agents, one school each')
    .requiredOption('-b, --broker <url>', 'MQTT broker, e.g. mqtt://127.0.0.1:1883')
    .option('-i, --interval <s>', 'seconds between two measurement batches of one agent', '60')
    .option('--schools <file>', 'school registry (CSV or YAML): its schools first, made-up ones after')
    .option('--seed <k>', 'random seed: the same seed gives the same schools, samples and outages', '1')
    .option(
      '--outages <rate>',
      'outages per school per hour (WAN cut, power cut, degraded link); 0 = none',
      '0.05',
    )
    .option('--username <user>', 'MQTT username')
    .option(
      '--password <password>',
      'MQTT password (or VIGIE_SIMULATE_PASSWORD)',
      process.env['VIGIE_SIMULATE_PASSWORD'],
    )
    .option('--ca <file>', 'CA certificate of an mqtts:// broker (the site CA, e.g. site/tls/ca.crt)')
    .option(
      '--credentials <file>',
      "`vigie enroll`'s credentials.json for the simulated schools: each agent logs in with its own school's account",
    )
    .option(
      '--impersonate-registry-schools',
      'over mqtts:// (a production broker), simulate the schools of --schools anyway: their real boxes are kicked off and outages recorded for them',
    )
    .option(
      '--write-registry <file>',
      'write the simulated schools as a registry CSV (to enroll them) and exit',
    )
    .option('--connect-rate <n>', 'new connections per second while the fleet comes up', '1000')
    .option('--duration <s>', 'stop after this many seconds (default: run until Ctrl-C)')
    .option('--progress <s>', 'seconds between two progress lines', '5')
    .option('--timezone <tz>', 'time zone of the schools (opening hours, daily traffic)', 'Europe/Paris')
    .option('--summary-json <file>', 'write the final figures as JSON to this file')
    .action(async (opts) => {
      const { runSimulateCommand } = await import('./main.ts');
      process.exitCode = await runSimulateCommand(opts);
    });
}
