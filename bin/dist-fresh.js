// Whether dist/ (scripts/build) holds the current sources: dist/.built's time is when the last
// build started, so any source file (or package.json) modified since then makes dist/ stale.
// One readdir per folder and one stat per file: ~200 files, a few milliseconds.
import { readdirSync, statSync } from 'node:fs';

/** Top-level folders compiled to dist/ (each .ts to .js, other files copied). */
export const SOURCE_DIRS = [
  'agent',
  'cli',
  'collector',
  'dashboards',
  'demo',
  'deploy',
  'report',
  'shared',
  'simulator',
];
export const BUILD_STAMP = '.built';

/** Every file under SOURCE_DIRS, relative to root with '/' separators. */
export function sourceFiles(root) {
  const out = [];
  const walk = (rel) => {
    for (const e of readdirSync(`${root}${rel}`, { withFileTypes: true })) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) out.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  return out;
}

/** True when root/dist/ was built from the sources now on disk (root ends with '/'). */
export function distIsFresh(root) {
  let built;
  try {
    built = statSync(`${root}dist/${BUILD_STAMP}`).mtimeMs;
  } catch {
    return false;
  }
  if (statSync(`${root}package.json`).mtimeMs > built) return false;
  const newer = (rel) => {
    for (const e of readdirSync(`${root}${rel}`, { withFileTypes: true })) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory() ? newer(path) : statSync(`${root}${path}`).mtimeMs > built) return true;
    }
    return false;
  };
  return !SOURCE_DIRS.some(newer);
}
