// Builds the admin UI (src/web/app → dist/web) with Vite.
// --if-missing: do nothing when dist/web is newer than every source file (npm start, tests).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const appDir = path.join(root, 'src/web/app');
const outIndex = path.join(root, 'dist/web/index.html');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

if (process.argv.includes('--if-missing') && existsSync(outIndex)) {
  if (statSync(outIndex).mtimeMs >= newestSource(appDir)) process.exit(0);
}

let vite;
try {
  vite = await import('vite');
} catch {
  // A production install without devDependencies: the server answers 503 with instructions.
  console.warn('build-web: vite is not installed (devDependencies omitted?); the admin UI is not built');
  process.exit(existsSync(outIndex) ? 0 : process.argv.includes('--if-missing') ? 0 : 1);
}
await vite.build({ configFile: path.join(appDir, 'vite.config.ts') });
console.log('build-web: admin UI built in dist/web');
