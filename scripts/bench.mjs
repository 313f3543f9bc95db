#!/usr/bin/env node
// `npm run bench [-- args]`: installs the benchmark's own dependencies on first use (they are
// kept out of the main install), then runs bench/src/cli.ts with the given arguments.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { compile } from './compile.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bench = path.join(root, 'bench');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

// The engine under test is imported from src/, which needs the main dependencies.
if (!existsSync(path.join(root, 'node_modules', 'pg'))) {
  console.error('bench: the main dependencies are missing; run `npm ci` first');
  process.exit(1);
}
if (!existsSync(path.join(bench, 'node_modules'))) {
  console.error('bench: installing benchmark dependencies (npm ci --prefix bench) ...');
  // Progress to stderr so that `--json` output on stdout stays a single clean line.
  const status = spawnSync(npm, ['ci', '--prefix', bench, '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  }).status;
  if (status !== 0) process.exit(status ?? 1);
}

// The measured children run compiled JavaScript: the benchmark and the engine it imports from
// src/, written to bench/.build with the migrations beside them (the engine reads those at start).
const build = path.join(bench, '.build');
const compiled = compile({
  tsc: path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  tsconfig: path.join(bench, 'tsconfig.build.json'),
  outDir: build,
  migrationsDir: path.join(build, 'src', 'db', 'migrations'),
});
if (!compiled) process.exit(1);

const tsx = path.join(bench, 'node_modules', 'tsx', 'dist', 'loader.mjs');
process.exit(
  run(process.execPath, ['--import', `file://${tsx}`, path.join(bench, 'src', 'cli.ts'), ...process.argv.slice(2)]),
);
