import type { Command } from 'commander';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerDeployCommands(program: Command): void {
  program
    .command('enroll')
    .description(
      "issue MQTT credentials for every school in the registry: broker password file and ACL, the collector's credential and speed-test secret, one agent config per school with its speed-test token (existing credentials are kept)",
    )
    .requiredOption('--schools <file>', 'school registry, CSV or YAML')
    .requiredOption(
      '--out <dir>',
      'output directory; it also keeps the credentials between runs (credentials.json, mode 0600)',
    )
    .option(
      '--broker <url>',
      'broker URL the agents connect to, e.g. mqtts://mqtt.example.org:8883 (remembered)',
    )
    .option(
      '--ca <path>',
      'path of the CA certificate on the agent box (remembered; default /etc/vigie/ca.crt)',
    )
    .option(
      '--speedtest-url <url>',
      "the collector's speed test as agents reach it through the TLS proxy, e.g. https://vigie.example.org/speedtest (remembered)",
    )
    .option(
      '--config <file>',
      "the collector's config (deploy/collector.yaml): the hours profiles under collector.alerts.hours are known besides the default ones",
    )
    .option(
      '--rotate <uai>',
      "issue a new credential for this school, `collector`, or `speedtest` (the secret of every school's speed-test token); repeatable",
      collect,
      [],
    )
    .action(
      async (opts: {
        schools: string;
        out: string;
        broker?: string;
        ca?: string;
        speedtestUrl?: string;
        config?: string;
        rotate: string[];
      }) => {
        const { runEnroll } = await import('./enroll-command.ts');
        process.exitCode = runEnroll(opts);
      },
    );
}
