/** The storage seam: everything above `db/` speaks PostgreSQL SQL through these two calls. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Names a hot statement so PostgreSQL parses and plans it once per connection instead of on
   * every call. Only for fixed SQL text; the embedded database ignores it.
   */
  name?: string;
}

export interface Queryable {
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>>;
}

export type DatabaseKind = 'postgres' | 'pglite';

export interface Db extends Queryable {
  readonly kind: DatabaseKind;
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Sends NOTIFY outside any transaction, coalescing identical ones made in the same tick into
   * one. Fire and forget: listeners also poll, so a lost notification only delays a wake-up.
   */
  notify(channel: string, payload: string): void;
  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * This process's presence on the database: a name other processes can check with `isPresent`,
   * and that stops being present the moment this process dies. On PostgreSQL a session of its own
   * holds an advisory lock (the server drops it with the session: kill -9, a crash, a lost
   * machine); the embedded database admits one process, so only its own presence is present.
   */
  presence(): Promise<string>;
  isPresent(presence: string): Promise<boolean>;
  /**
   * The embedded database only: its data folder as a gzipped tar, copied at one instant between
   * two transactions (see pglite.ts). PostgreSQL is backed up with its own tools (pg_dump, PITR).
   */
  dumpDataDir?(): Promise<Uint8Array>;
  close(): Promise<void>;
}
