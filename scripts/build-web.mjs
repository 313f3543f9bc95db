// Builds the admin UI (src/web/app → dist/web) with Vite.
// --if-missing: do nothing when dist/web is newer than every source file (npm start, tests).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { newestChange } from '../bin/compiled.js';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const appDir = path.join(root, 'src/web/app');
const outIndex = path.join(root, 'dist/web/index.html');

if (process.argv.includes('--if-missing') && existsSync(outIndex)) {
  if (statSync(outIndex).mtimeMs >= newestChange(appDir)) process.exit(0);
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
