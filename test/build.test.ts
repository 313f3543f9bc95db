import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildIsCurrent, buildPaths } from '../bin/compiled.js';

function checkout() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'billflow-build-'));
  const paths = buildPaths(root);
  mkdirSync(path.join(paths.src, 'web', 'app'), { recursive: true });
  writeFileSync(path.join(paths.src, 'cli.ts'), '');
  writeFileSync(path.join(paths.src, 'web', 'app', 'main.tsx'), '');
  return paths;
}

function setTime(file: string, secondsAgo: number) {
  const at = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(file, at, at);
}

test('the compiled build runs only when complete and newer than every source', () => {
  const paths = checkout();
  setTime(path.join(paths.src, 'cli.ts'), 60);
  setTime(path.join(paths.src, 'web', 'app', 'main.tsx'), 60);
  assert.equal(buildIsCurrent(path.dirname(paths.src)), false, 'no build yet');

  mkdirSync(paths.lib);
  writeFileSync(paths.entry, '');
  assert.equal(buildIsCurrent(path.dirname(paths.src)), false, 'half-written: no completion stamp');

  writeFileSync(paths.stamp, '');
  setTime(paths.stamp, 30);
  assert.equal(buildIsCurrent(path.dirname(paths.src)), true);

  // The admin UI's sources have their own build: editing them does not make lib/ stale.
  setTime(path.join(paths.src, 'web', 'app', 'main.tsx'), 0);
  assert.equal(buildIsCurrent(path.dirname(paths.src)), true);

  setTime(path.join(paths.src, 'cli.ts'), 0);
  assert.equal(buildIsCurrent(path.dirname(paths.src)), false, 'a source changed after the build');
});
