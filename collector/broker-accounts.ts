// The embedded broker's accounts: the Mosquitto password file `vigie enroll` writes, re-read when it
// changes, so an enroll run (a new school, a rotated or revoked one) takes effect without a restart,
// as a reload does for Mosquitto.
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { parsePasswordFile, verifyPasswordAsync } from '../deploy/mosquitto-passwd.ts';
import { ConfigError } from '../shared/config.ts';
import type { Logger } from '../shared/log.ts';

/** How often a login may look at the file for a change. */
const CHECK_EVERY_MS = 1000;
/** Problems logged one by one per read; past it, one line with the count. */
const LOGGED_PROBLEMS = 20;

export class BrokerAccounts {
  private hashes = new Map<string, string>();
  private version = '';
  private checkedAt = 0;
  private checking: Promise<void> | null = null;
  /** Lines refused at the last read; reads that failed (the previous accounts stayed). */
  readonly stats = { fileProblems: 0, failedReads: 0, reads: 0 };

  private constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  /** Reads the file once; unreadable, it is a configuration error (ConfigError naming the key). */
  static open(file: string, log: Logger): BrokerAccounts {
    const accounts = new BrokerAccounts(file, log);
    try {
      accounts.use(readFileSync(file, 'utf8'), fileVersion(statSync(file)));
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError('collector config', [
        {
          path: 'collector.broker.passwordFile',
          expected: 'a readable password file (`vigie enroll` writes site/enroll/mosquitto/passwd)',
          found: `${file} (${(err as Error).message})`,
        },
      ]);
    }
    return accounts;
  }

  get size(): number {
    return this.hashes.size;
  }

  /** True when the file lists `username` with this password. Never throws. */
  async verify(username: string, password: string): Promise<boolean> {
    await this.refresh();
    const hash = this.hashes.get(username);
    return hash !== undefined && verifyPasswordAsync(password, hash);
  }

  private refresh(): Promise<void> {
    const now = Date.now();
    if (this.checking || now - this.checkedAt < CHECK_EVERY_MS) return this.checking ?? Promise.resolve();
    this.checkedAt = now;
    this.checking = (async () => {
      try {
        const version = fileVersion(await stat(this.file));
        if (version !== this.version) this.use(await readFile(this.file, 'utf8'), version);
      } catch (err) {
        // Keep the accounts we have: an unreadable file must not let anyone in, nor lock everyone out.
        this.stats.failedReads++;
        this.log.error(
          { file: this.file, err: (err as Error).message, accounts: this.hashes.size },
          'embedded broker: cannot read the password file; the accounts read before stay in force',
        );
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }

  private use(text: string, version: string): void {
    const { hashes, problems } = parsePasswordFile(text);
    this.stats.reads++;
    this.stats.fileProblems = problems.length;
    for (const p of problems.slice(0, LOGGED_PROBLEMS))
      this.log.warn({ file: this.file, line: p.line }, `${this.file}:${p.line}: ${p.message}; line ignored`);
    if (problems.length > LOGGED_PROBLEMS)
      this.log.warn(
        { file: this.file, problems: problems.length },
        `${this.file}: ${problems.length - LOGGED_PROBLEMS} more lines ignored`,
      );
    if (this.version !== '')
      this.log.info({ file: this.file, accounts: hashes.size }, 'embedded broker: password file re-read');
    this.hashes = hashes;
    this.version = version;
  }
}

const fileVersion = (s: { ino: number; size: number; mtimeMs: number }) => `${s.ino}:${s.size}:${s.mtimeMs}`;
