// Whether lib/ (the compiled build, `npm run build`) holds the current sources: the stamp the
// build writes when it is complete must be newer than every file under src/. A stale or
// half-written build is never run.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where the sources, the build, its entry point and its completion stamp are under `root`. */
export function buildPaths(root = ROOT) {
  const lib = path.join(root, 'lib');
  return {
    src: path.join(root, 'src'),
    lib,
    entry: path.join(lib, 'cli.js'),
    stamp: path.join(lib, '.complete'),
  };
}

/** The latest modification time of any file under `dir`, leaving out the folders in `skip`. */
export function newestChange(dir, skip = []) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skip.includes(file)) newest = Math.max(newest, newestChange(file, skip));
    } else {
      newest = Math.max(newest, statSync(file).mtimeMs);
    }
  }
  return newest;
}

/** True when lib/ is complete and was built after the last change under src/. */
export function buildIsCurrent(root = ROOT) {
  const { src, stamp } = buildPaths(root);
  if (!existsSync(stamp)) return false;
  // An installed package may ship lib/ without its sources.
  if (!existsSync(src)) return true;
  // The admin UI has its own build (dist/web); its sources are not part of lib/.
  return statSync(stamp).mtimeMs >= newestChange(src, [path.join(src, 'web', 'app')]);
}
