// `--out DIR` options: a folder that exists or can be created. Said before any work, with exit 2,
// rather than as a raw EEXIST/ENOTDIR from deep inside the writes.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Why `path` cannot be used as an output folder, or null when it can: an existing file (or a file
 * where a parent folder should be) is refused. `option` names the flag in the message (`--out`).
 */
export function outDirProblem(path: string, option = '--out'): string | null {
  for (let p = resolve(path); ; p = dirname(p)) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      if (dirname(p) === p) return null;
      continue; // missing: created later, look at its parent
    }
    if (isDir) return null;
    return p === resolve(path)
      ? `${option} ${path}: is a file, not a folder; give a folder (created if missing)`
      : `${option} ${path}: ${p} is a file, so no folder can be made under it; give a folder`;
  }
}
