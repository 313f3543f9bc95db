// Compiles the service (src/ → lib/, tsconfig.build.json) with the SQL migrations beside it.
// --if-stale: do nothing when lib/ already holds the current sources (npm start).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT, buildIsCurrent, buildPaths } from '../bin/compiled.js';
import { compile } from './compile.mjs';

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
const { lib, stamp } = buildPaths();
const tsconfig = path.join(ROOT, 'tsconfig.build.json');
if (!compile({ tsc, tsconfig, outDir: lib, migrationsDir: path.join(lib, 'db', 'migrations') })) process.exit(1);
// Written last: bin/billflow.js runs lib/ only once this exists.
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.log('build: service compiled to lib/');
