// Runs the whole suite: unit tests beside the code (src/**/*.test.ts) and the integration,
// fault and browser tests in test/. Database tests run once per database (PGlite and
// PostgreSQL) inside each file; see test/helpers/databases.ts.
// Usage: npm test [-- path/or/substring ...]
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'fixtures' ? [] : find(full);
    return entry.name.endsWith('.test.ts') ? [path.relative(root, full)] : [];
  });
}

const filters = process.argv.slice(2);
const files = [...find(path.join(root, 'src')), ...find(path.join(root, 'test'))]
  .sort()
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

// The limit applies to each test file as a whole (files run in their own process): the API fuzz
// test sends thousands of requests on two databases and needs minutes on a busy 2-core machine.
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { cwd: root, stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
