// Compiles the service (src/ → lib/, tsconfig.build.json) with the SQL migrations beside it.
// --if-stale: do nothing when lib/ already holds the current sources (npm start).
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT, buildIsCurrent, buildPaths } from '../bin/compiled.js';

const ifStale = process.argv.includes('--if-stale');
if (ifStale && buildIsCurrent()) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // A production install without devDependencies: bin/billflow.js runs the sources instead.
  console.warn('build: typescript is not installed (devDependencies omitted?); running from src/');
  process.exit(ifStale ? 0 : 1);
}
const { src, lib, stamp } = buildPaths();
rmSync(lib, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
cpSync(path.join(src, 'db', 'migrations'), path.join(lib, 'db', 'migrations'), { recursive: true });
// Written last: bin/billflow.js runs lib/ only once this exists.
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.log('build: service compiled to lib/');
