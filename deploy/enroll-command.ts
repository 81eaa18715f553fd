import { ConfigError } from '../shared/config.ts';
import { RegistryError } from '../shared/registry.ts';
import { type EnrollOptions, enroll } from './enroll.ts';
import { EnrollmentError } from './enrollment.ts';

/** Prints what changed, never a password. Exit 0, or 2 for a bad registry, state or request. */
export function runEnroll(opts: EnrollOptions): number {
  try {
    const { changes, written } = enroll(opts);
    const line = (label: string, list: string[]) =>
      list.length ? `${label} (${list.length}): ${list.join(' ')}\n` : '';
    process.stdout.write(
      line('issued', changes.added) +
        line('rotated', changes.rotated) +
        line('revoked (not in the registry any more)', changes.revoked) +
        `kept: ${changes.kept.length}\n` +
        `wrote ${written.length} files in ${opts.out} (mosquitto/passwd, mosquitto/acl, collector.env, agents/<UAI>.yaml); reload the broker: docker compose kill -s HUP mosquitto\n`,
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
