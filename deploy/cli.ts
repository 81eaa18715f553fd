import type { Command } from 'commander';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerDeployCommands(program: Command): void {
  program
    .command('enroll')
    .description(
      'issue MQTT credentials for every school in the registry: broker password file and ACL, collector credential, one agent config per school (existing credentials are kept)',
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
      '--rotate <uai>',
      'issue a new credential for this school (or `collector`); repeatable',
      collect,
      [],
    )
    .action(
      async (opts: { schools: string; out: string; broker?: string; ca?: string; rotate: string[] }) => {
        const { runEnroll } = await import('./enroll-command.ts');
        process.exitCode = runEnroll(opts);
      },
    );
}
