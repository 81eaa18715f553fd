import { outDirProblem } from '../cli/out-dir.ts';
import { ConfigError } from '../shared/config.ts';
import { RegistryError } from '../shared/registry.ts';
import { type EnrollOptions, type EnrollResult, enroll } from './enroll.ts';
import { COLLECTOR_USER, EnrollmentError, SPEEDTEST_MOUNT } from './enrollment.ts';

/** What the operator must do about the speed test after this run, if anything. */
function speedtestLines(result: EnrollResult, given: string | undefined): string {
  const lines: string[] = [];
  if (result.migratedFrom !== undefined)
    lines.push(`credentials.json upgraded from version ${result.migratedFrom}`);
  if (result.speedtest === 'issued') lines.push('speed-test secret: issued (collector.env)');
  if (result.speedtest === 'rotated')
    lines.push(
      "speed-test secret: rotated, so every school's speed-test token changed: copy each agents/<UAI>.yaml to its box (until then their speed tests are refused)",
    );
  if (!result.speedtestUrl) {
    lines.push(
      `speed test: no --speedtest-url known, the agent configs carry none; add the collector's speed test as agents reach it through your TLS proxy, e.g. --speedtest-url https://vigie.example.org${SPEEDTEST_MOUNT} (remembered)`,
    );
  } else {
    if (result.speedtestUrlChanged && result.speedtest !== 'rotated')
      lines.push(
        `speed test: the agent configs now use ${result.speedtestUrl}: copy each agents/<UAI>.yaml to its box`,
      );
    if (given !== undefined && !new URL(result.speedtestUrl).pathname.endsWith(SPEEDTEST_MOUNT))
      lines.push(
        `speed test: agents will fetch ${result.speedtestUrl}/download and /upload; the collector serves them under ${SPEEDTEST_MOUNT}, make sure your proxy maps that`,
      );
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** Prints what changed, never a password or token. Exit 0, or 2 for a bad registry, state or request. */
export function runEnroll(opts: EnrollOptions): number {
  const badOut = outDirProblem(opts.out);
  if (badOut) {
    process.stderr.write(`vigie enroll: ${badOut}\n`);
    return 2;
  }
  try {
    const result = enroll(opts);
    const { changes, written } = result;
    const line = (label: string, list: string[]) =>
      list.length ? `${label} (${list.length}): ${list.join(' ')}\n` : '';
    const collectorChanged =
      result.speedtest !== 'kept' || [...changes.added, ...changes.rotated].includes(COLLECTOR_USER);
    process.stdout.write(
      line('issued', changes.added) +
        line('rotated', changes.rotated) +
        line('revoked (not in the registry any more)', changes.revoked) +
        `kept: ${changes.kept.length}\n` +
        speedtestLines(result, opts.speedtestUrl) +
        (result.agentSettingsChanged.length
          ? `agent configs changed (${result.agentSettingsChanged.join(', ')}): copy each agents/<UAI>.yaml to its box and restart its agent\n`
          : '') +
        `wrote ${written.length} files in ${opts.out} (mosquitto/ passwd and acl, with the health listener's, collector.env, agents/<UAI>.yaml); reload the broker: docker compose kill -s HUP mosquitto\n` +
        // compose reads an env_file when it creates the container: `restart` would keep the old one.
        (collectorChanged
          ? 'collector.env changed: recreate the collector with docker compose up -d collector\n'
          : ''),
    );
    return 0;
  } catch (err) {
    if (err instanceof RegistryError || err instanceof EnrollmentError || err instanceof ConfigError) {
      process.stderr.write(`vigie enroll: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
