import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { ChildTask } from './protocol.ts';

// Backends report their transaction counts to pg_stat_database when idle for about a second
// (at most once a second when busy): wait that long before each reading.
const STATS_FLUSH_MS = 1_200;

/**
 * Transactions committed in the pair's PostgreSQL database (pg_stat_database.xact_commit: every
 * engine connection's, reads included, and DBOS's queue polling). Undefined on PGlite.
 */
export async function committedTransactions(task: ChildTask): Promise<number | undefined> {
  if (task.database !== 'postgres') return undefined;
  await sleep(STATS_FLUSH_MS);
  const client = new pg.Client({ connectionString: task.target });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}
