import { randomInt } from 'node:crypto';
import pg from 'pg';
import type { Db, QueryOptions, QueryResult, Queryable } from './types.ts';
import { coalescedNotify } from './notify.ts';
import { statementNameCheck } from './statement-names.ts';

export interface PostgresOptions {
  connectionString: string;
  maxConnections?: number;
  /** How long a query waits for a connection (from the pool or a new one) before failing. */
  connectionTimeoutMs?: number;
  /** Called for connection errors that happen outside a query (idle client dropped, LISTEN lost). */
  onError?: (error: Error) => void;
}

// Return int8/numeric as strings only where we ask; counts are cast to int in SQL.
const LISTEN_RETRY_MS = 500;
/** The first key of the advisory locks that mark a process's presence ('BFLW'). */
const PRESENCE_LOCK_CLASS = 0x42464c57;

export function connectPostgres(options: PostgresOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    // Queries given to one client while it waits for an answer are written at once instead of
    // one per round trip: a batch runs the attempts of a sideBySide db step together (db-batch.ts).
    // Each keeps its own Sync, so errors stay per query and a lone caller sees no difference.
    pipeline: true,
  });
  const onError = options.onError ?? (() => {});
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', onError);

  const listeners = new Set<{ close: () => Promise<void> }>();

  // This process's presence: one session of its own holds the advisory lock (CLASS, token) for
  // as long as the process lives; PostgreSQL releases it when the session ends, which a killed
  // process's does at once (its socket closes). Opened on first use, re-held after a drop.
  let presence: Promise<number> | undefined;
  let presenceClient: pg.Client | undefined;
  let presenceRetry: NodeJS.Timeout | undefined;
  let closed = false;
  const holdPresence = async (token: number | undefined): Promise<number> => {
    for (let tries = 0; tries < 5; tries++) {
      const candidate = token ?? randomInt(1, 2 ** 31 - 1);
      const c = new pg.Client({ connectionString: options.connectionString });
      c.on('error', (error) => {
        onError(error);
        dropPresence(c, candidate);
      });
      c.on('end', () => dropPresence(c, candidate));
      await c.connect();
      const { rows } = await c.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS held', [
        PRESENCE_LOCK_CLASS,
        candidate,
      ]);
      if (rows[0]?.held && !closed) {
        presenceClient = c;
        return candidate;
      }
      c.removeAllListeners('end');
      await c.end().catch(() => {});
      if (closed) throw new Error('Cannot use a pool after calling end on the pool');
      // Taken: another process drew the same token (or, re-holding, still looks present).
      if (token !== undefined) throw new Error('the presence lock is held by another session');
    }
    throw new Error('could not take a presence lock');
  };
  const dropPresence = (c: pg.Client, token: number) => {
    if (closed || presenceClient !== c || presenceRetry) return;
    presenceClient = undefined;
    c.end().catch(() => {});
    const attempt = () => {
      presenceRetry = undefined;
      if (closed) return;
      holdPresence(token).catch((error: Error) => {
        onError(error);
        presenceRetry = setTimeout(attempt, LISTEN_RETRY_MS);
      });
    };
    presenceRetry = setTimeout(attempt, LISTEN_RETRY_MS);
  };

  const checkName = statementNameCheck();
  // The pool and a transaction's client send a statement the same way.
  async function send<R>(
    on: pg.Pool | pg.PoolClient,
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    const values = params as unknown[] | undefined;
    if (options?.name) checkName(options.name, sql);
    const result = options?.name
      ? await on.query({ name: options.name, text: sql, values })
      : await on.query(sql, values);
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  }
  const query = <R>(sql: string, params?: readonly unknown[], options?: QueryOptions) =>
    send<R>(pool, sql, params, options);

  return {
    kind: 'postgres',
    query,
    notify: coalescedNotify(async (channel, payload) => {
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    }, onError),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      let broken = false;
      // A checked-out client has no pool listener: a connection lost between two queries of the
      // transaction (terminated backend, server restart) would emit an unhandled 'error' and
      // crash the process. The caller learns of it from its next query; here it only marks the
      // client as not reusable. The listener goes on inside the connect callback, synchronously:
      // awaiting the promise form leaves a gap in which an error arriving in the same socket
      // read as the connection's ready message is emitted with no listener.
      const onClientError = (error: Error) => {
        broken = true;
        onError(error);
      };
      const client = await new Promise<pg.PoolClient>((resolve, reject) => {
        pool.connect((error, connected) => {
          if (error || !connected) return reject(error ?? new Error('no client from the pool'));
          connected.on('error', onClientError);
          resolve(connected);
        });
      });
      const tx: Queryable = {
        query: <R>(sql: string, params?: readonly unknown[], options?: QueryOptions) =>
          send<R>(client, sql, params, options),
      };
      try {
        await client.query('BEGIN');
        const value = await fn(tx);
        await client.query('COMMIT');
        return value;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw error;
      } finally {
        client.off('error', onClientError);
        client.release(broken);
      }
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async listen(channel, onNotify) {
      // A dedicated connection, re-established after a drop so wake-ups survive a server restart.
      let client: pg.Client | undefined;
      let closed = false;
      let retry: NodeJS.Timeout | undefined;
      const connect = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: options.connectionString });
        c.on('notification', (msg) => {
          if (msg.channel === channel) onNotify(msg.payload ?? '');
        });
        c.on('error', (error) => {
          onError(error);
          reconnect(c);
        });
        c.on('end', () => reconnect(c));
        await c.connect();
        await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        if (closed) {
          await c.end().catch(() => {});
          return;
        }
        client = c;
        // Anything may have been missed while disconnected: let the caller re-check.
        onNotify('');
      };
      const reconnect = (c: pg.Client) => {
        if (closed || client !== c || retry) return;
        client = undefined;
        c.end().catch(() => {});
        const attempt = () => {
          retry = undefined;
          if (closed) return;
          connect().catch((error: Error) => {
            onError(error);
            retry = setTimeout(attempt, LISTEN_RETRY_MS);
          });
        };
        retry = setTimeout(attempt, LISTEN_RETRY_MS);
      };
      await connect();
      const handle = {
        close: async () => {
          closed = true;
          if (retry) clearTimeout(retry);
          listeners.delete(handle);
          await client?.end().catch(() => {});
        },
      };
      listeners.add(handle);
      return handle.close;
    },
    async presence() {
      presence ??= holdPresence(undefined).catch((error: unknown) => {
        presence = undefined;
        throw error;
      });
      return `pg:${await presence}`;
    },
    async isPresent(other: string) {
      const match = /^pg:(\d+)$/.exec(other);
      if (!match) return false;
      const { rows } = await query<{ present: boolean }>(
        `SELECT EXISTS (
           SELECT 1 FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND objsubid = 2
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND classid = $1::bigint::oid AND objid = $2::bigint::oid) AS present`,
        [PRESENCE_LOCK_CLASS, Number(match[1])],
      );
      return rows[0]?.present === true;
    },
    async close() {
      closed = true;
      if (presenceRetry) clearTimeout(presenceRetry);
      await presenceClient?.end().catch(() => {});
      await Promise.all([...listeners].map((l) => l.close()));
      await pool.end();
    },
  };
}
