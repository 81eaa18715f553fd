// The files a process opens at start, checked before it starts (and by `vigie config check`): a CA
// that is not there is one clear line and exit 2, not a connection retried forever with stack traces.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ConfigProblem } from './config.ts';

export interface StartFile {
  /** The config key that names it, e.g. `agent.mqtt.ca`. */
  key: string;
  path: string;
  /** read: a file it reads; dir: a folder it writes in (created when missing); file: a file it writes. */
  need: 'read' | 'dir' | 'file';
}

function errno(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'ENOENT (not there)';
  if (code === 'EACCES' || code === 'EPERM') return `${code} (no permission for this user)`;
  return code ?? String(err);
}

/** The nearest folder that exists at or above `dir`: mkdir -p would create the rest inside it. */
function existingAncestor(dir: string): string {
  let d = resolve(dir);
  for (;;) {
    try {
      statSync(d);
      return d;
    } catch {
      const up = dirname(d);
      if (up === d) return d;
      d = up;
    }
  }
}

function writableDirProblem(dir: string): string | undefined {
  const at = existingAncestor(dir);
  try {
    if (!statSync(at).isDirectory()) return `"${at}" is not a folder`;
    accessSync(at, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    return `"${at}" not writable: ${errno(err)}`;
  }
}

/** One problem per file that cannot be opened as the process will, in the order given. */
export function startFileProblems(files: readonly StartFile[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const f of files) {
    let found: string | undefined;
    if (f.need === 'read') {
      try {
        if (statSync(f.path).isDirectory()) found = `"${f.path}", a folder`;
        else accessSync(f.path, constants.R_OK);
      } catch (err) {
        found = `"${f.path}": ${errno(err)}`;
      }
    } else {
      const dir = f.need === 'dir' ? f.path : dirname(f.path);
      const bad = writableDirProblem(dir);
      if (!bad && f.need === 'file') {
        try {
          accessSync(f.path, constants.W_OK);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') found = `"${f.path}": ${errno(err)}`;
        }
      }
      if (bad) found = `"${f.path}": ${bad}`;
    }
    if (found !== undefined)
      problems.push({
        path: f.key,
        expected:
          f.need === 'read' ? 'a readable file' : f.need === 'dir' ? 'a writable folder' : 'a writable file',
        found,
      });
  }
  return problems;
}
