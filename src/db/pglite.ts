import { PGlite } from '@electric-sql/pglite';
import type { Db, QueryResult, Queryable } from './types.ts';
import { coalescedNotify } from './notify.ts';

/**
 * The embedded database: PostgreSQL compiled to WASM, in this process. One connection, so
 * queries are serialized; a query issued outside an open transaction waits for it to finish.
 * `dataDir` undefined means in memory (tests).
 */
export async function openPglite(dataDir?: string): Promise<Db> {
  // PostgreSQL's default 128 MB of shared buffers lives in this process's WASM heap; 16 MB takes
  // ~130 MB off the resident size, and the OS page cache still holds the data files.
  const startParams = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];
  return wrapPglite(await PGlite.create(dataDir ? { dataDir, startParams } : { startParams }));
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
