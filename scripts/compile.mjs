// Compiles TypeScript to plain JavaScript with a tsconfig that emits (types are checked by
// `npm run typecheck`, not here), and puts the SQL migrations where the compiled engine reads
// them. Shared by the service's build (lib/) and the benchmark's (bench/.build).
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../bin/compiled.js';

/** True when the compile succeeded; `tsc` is the path of TypeScript's bin/tsc. */
export function compile({ tsc, tsconfig, outDir, migrationsDir }) {
  rmSync(outDir, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [tsc, '-p', tsconfig], { stdio: 'inherit' });
  if (result.status !== 0) return false;
  cpSync(path.join(ROOT, 'src', 'db', 'migrations'), migrationsDir, { recursive: true });
  return true;
}
