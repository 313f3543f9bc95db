import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Db, QueryResult, Queryable } from './types.ts';
import { coalescedNotify } from './notify.ts';

/**
 * The embedded database: PostgreSQL compiled to WASM, in this process. One connection, so
 * queries are serialized; a query issued outside an open transaction waits for it to finish.
 * `dataDir` undefined means in memory (tests).
 */
export async function openPglite(dataDir?: string): Promise<Db> {
  if (dataDir) await initializeInChild(dataDir);
  // PostgreSQL's default 128 MB of shared buffers lives in this process's WASM heap; 16 MB takes
  // ~130 MB off the resident size, and the OS page cache still holds the data files.
  const startParams = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];
  return wrapPglite(await PGlite.create(dataDir ? { dataDir, startParams } : { startParams }));
}

/**
 * Creates a new data folder in a child process that then exits: PGlite's initdb briefly takes
 * about 900 MB, and a process keeps such a peak for its lifetime (a first `billflow start`
 * stayed at ~780 MB instead of ~320 MB). An existing folder is left alone.
 */
async function initializeInChild(dataDir: string): Promise<void> {
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  const module = import.meta.resolve('@electric-sql/pglite');
  const script =
    `const { PGlite } = await import(${JSON.stringify(module)});` +
    'const db = await PGlite.create({ dataDir: process.argv[1] }); await db.close();';
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dataDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) return resolve();
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
