import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { PGliteOptions } from '@electric-sql/pglite';
import { DurableNodeFS, fsyncTree } from './pgliteDurable.ts';
import type { Db, QueryOptions, QueryResult, Queryable } from './types.ts';
import { coalescedNotify } from './notify.ts';
import { statementNameCheck } from './statement-names.ts';

/**
 * The embedded database: PostgreSQL compiled to WASM, in this process. One connection, so
 * queries are serialized; a query issued outside an open transaction waits for it to finish.
 * `dataDir` undefined means in memory (tests).
 */
export async function openPglite(dataDir?: string): Promise<Db> {
  if (dataDir && (await initializeInChild(dataDir))) fsyncTree(dataDir);
  return wrapPglite(await PGlite.create(pgliteOptions(dataDir)));
}

/** How Billflow runs PGlite: on a data folder (durably) or in memory (tests). */
export function pgliteOptions(dataDir?: string): PGliteOptions {
  // PostgreSQL's default 128 MB of shared buffers lives in this process's WASM heap, which never
  // shrinks; 8 MB keeps the hot pages of the runs tables, and the OS page cache holds the rest.
  // wal_init_zero: a new 16 MB WAL segment is created by writing its last byte, not by writing
  // 16 MB of zeros through 1 MB JS copies (a 12-16 MB peak each time). Safety does not depend
  // on it: PostgreSQL validates every WAL record and stops at the first invalid one.
  const memory = ['-c', 'shared_buffers=8MB', '-c', 'wal_init_zero=off'];
  if (!dataDir) return { startParams: [...PGlite.defaultStartParams, ...memory] };
  // PGlite's defaults run PostgreSQL with fsync off (-F), and its Node file system ignores
  // fsync: a commit reached the OS but not the disk, and a power loss could take committed
  // steps with it. Durable: fsync on, through fsync() (the call Emscripten hands to the file
  // system; its fdatasync() does nothing), which DurableNodeFS carries out on the real file.
  const durable = ['-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];
  return {
    fs: new DurableNodeFS(dataDir),
    startParams: [...PGlite.defaultStartParams.filter((param) => param !== '-F'), ...durable, ...memory],
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
  // One process opens the folder: a presence named by anything else is from a process that died.
  const presence = `pglite:${randomUUID()}`;
  const checkName = statementNameCheck();
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
    async query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
      if (options?.name) checkName(options.name, sql);
      return toResult<R>(await pglite.query(sql, params as unknown[] | undefined));
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pglite.transaction(async (t) =>
        fn({
          async query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
            if (options?.name) checkName(options.name, sql);
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
    async presence() {
      return presence;
    },
    async isPresent(other: string) {
      return other === presence;
    },
    async dumpDataDir() {
      // A checkpoint first, so that opening the copy replays little WAL.
      await pglite.query('CHECKPOINT');
      // PGlite copies the folder's files into the tar synchronously while it holds its query lock:
      // nothing runs in between, so the copy is of one instant, like a file-system snapshot of a
      // running PostgreSQL. Under the transaction lock as well, that instant falls between
      // transactions (one in flight finishes first, the next waits), not inside one.
      const tar = await pglite._runExclusiveTransaction(() => pglite.dumpDataDir('gzip'));
      return new Uint8Array(await tar.arrayBuffer());
    },
    async close() {
      await pglite.close();
    },
  };
}
