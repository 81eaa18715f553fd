// A checkout where docs/deploy.md puts a site's files (site/: CA key, credentials; .env: passwords)
// and the compiled dist/ must show none of them in `git status`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it.each(['site/tls/ca.key', 'site/enroll/credentials.json', '.env', 'deploy/.env', 'dist/cli/main.js'])(
  'git ignores %s',
  (path) => {
    const r = spawnSync('git', ['check-ignore', '--no-index', '-q', path], { cwd: ROOT });
    expect(r.status, `${path} is not ignored by .gitignore`).toBe(0);
  },
);
