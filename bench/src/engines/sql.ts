import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pgliteOptions } from '../../../src/db/pglite.ts';
import { tuneV8ForService } from '../../../src/v8-tuning.ts';

// The smallest seam the baseline needs over node-postgres and PGlite, so its queue logic is
// written once and reads like what a team would write by hand.

export interface Query {
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface Sql extends Query {
  transaction<T>(fn: (q: Query) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function postgresSql(connectionString: string, max: number): Sql {
  const pool = new pg.Pool({ connectionString, max });
  return {
    query: async <R>(text: string, params?: unknown[]) => ({ rows: (await pool.query(text, params)).rows as R[] }),
    async transaction<T>(fn: (q: Query) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      const q: Query = {
        query: async <R>(t: string, p?: unknown[]) => ({ rows: (await client.query(t, p)).rows as R[] }),
      };
      try {
        await client.query('BEGIN');
        const value = await fn(q);
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

// The same PGlite configuration as Billflow's, durable commits and V8 settings included:
// PGlite's own defaults turn fsync off.
export async function pgliteSql(dataDir: string): Promise<Sql> {
  tuneV8ForService({ embeddedDatabase: true });
  const db = await PGlite.create(pgliteOptions(dataDir));
  return {
    query: async <R>(text: string, params?: unknown[]) => ({ rows: (await db.query<R>(text, params)).rows }),
    transaction: <T>(fn: (q: Query) => Promise<T>) =>
      db.transaction((tx) =>
        fn({ query: async <R>(t: string, p?: unknown[]) => ({ rows: (await tx.query<R>(t, p)).rows }) }),
      ),
    close: () => db.close(),
  };
}
