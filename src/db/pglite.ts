import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import type { PGliteOptions } from '@electric-sql/pglite';
import { DurableNodeFS, fsyncTree } from './pgliteDurable.ts';
import type { Db, QueryResult, Queryable } from './types.ts';
import { coalescedNotify } from './notify.ts';

/**
 * The embedded database: PostgreSQL compiled to WASM, in this process. One connection, so
 * queries are serialized; a query issued outside an open transaction waits for it to finish.
 * `dataDir` undefined means in memory (tests).
 */
export async function openPglite(dataDir?: string): Promise<Db> {
  if (dataDir && (await initializeInChild(dataDir))) fsyncTree(dataDir);
  return wrapPglite(await PGlite.create(pgliteOptions(dataDir)));
}

/**
 * For a process that keeps the embedded database open (the service): V8 then compiles
 * PostgreSQL's WASM with its optimizing compiler only, each function on its first call, instead
 * of with its baseline compiler first and the hot functions again in the background. The
 * process peaks 40-80 MB lower and has no warm-up of background recompiles; opening takes
 * about 1.2 s longer and a query shape's first run 40-100 ms longer (docs/performance.md), which
 * one-shot commands and the tests' in-memory databases are better without. V8's flags are per
 * process and apply to WASM compiled after this call.
 */
export function compileWasmOptimized(): void {
  v8.setFlagsFromString('--no-liftoff');
}

/** How Billflow runs PGlite: on a data folder (durably) or in memory (tests). */
export function pgliteOptions(dataDir?: string): PGliteOptions {
  // PostgreSQL's default 128 MB of shared buffers lives in this process's WASM heap; 16 MB takes
  // ~130 MB off the resident size, and the OS page cache still holds the data files.
  const buffers = ['-c', 'shared_buffers=16MB'];
  if (!dataDir) return { startParams: [...PGlite.defaultStartParams, ...buffers] };
  // PGlite's defaults run PostgreSQL with fsync off (-F), and its Node file system ignores
  // fsync: a commit reached the OS but not the disk, and a power loss could take committed
  // steps with it. Durable: fsync on, through fsync() (the call Emscripten hands to the file
  // system; its fdatasync() does nothing), which DurableNodeFS carries out on the real file.
  const durable = ['-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];
  return {
    fs: new DurableNodeFS(dataDir),
    startParams: [...PGlite.defaultStartParams.filter((param) => param !== '-F'), ...durable, ...buffers],
  };
}

/**
 * Creates a new data folder in a child process that then exits: PGlite's initdb briefly takes
 * about 900 MB, and a process keeps such a peak for its lifetime (a first `billflow start`
 * stayed at ~780 MB instead of ~320 MB). An existing folder is left alone. True when it created one.
 */
async function initializeInChild(dataDir: string): Promise<boolean> {
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return false;
  const module = import.meta.resolve('@electric-sql/pglite');
  const script =
    `const { PGlite } = await import(${JSON.stringify(module)});` +
    'const db = await PGlite.create({ dataDir: process.argv[1] }); await db.close();';
  return new Promise<boolean>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dataDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) return resolve(true);
      const last = stderr.trim().split('\n').pop() ?? '';
      reject(new Error(`initializing a new embedded database failed (exit ${code}): ${last}`));
    });
  });
}

/** The seam over an already open PGlite instance. */
export function wrapPglite(pglite: PGlite): Db {
  const toResult = <R>(r: { rows: unknown[]; affectedRows?: number }): QueryResult<R> => ({
    rows: r.rows as R[],
    rowCount: Math.max(r.affectedRows ?? 0, r.rows.length),
  });
  return {
    kind: 'pglite',
    notify: coalescedNotify(
      async (channel, payload) => {
        await pglite.query('SELECT pg_notify($1, $2)', [channel, payload]);
      },
      () => {},
    ),
    async query<R>(sql: string, params?: readonly unknown[]) {
      return toResult<R>(await pglite.query(sql, params as unknown[] | undefined));
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pglite.transaction(async (t) =>
        fn({
          async query<R>(sql: string, params?: readonly unknown[]) {
            return toResult<R>(await t.query(sql, params as unknown[] | undefined));
          },
        }),
      );
    },
    async exec(sql: string) {
      await pglite.exec(sql);
    },
    async listen(channel, onNotify) {
      return pglite.listen(channel, onNotify);
    },
    async close() {
      await pglite.close();
    },
  };
}
