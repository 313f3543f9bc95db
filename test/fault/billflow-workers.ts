// `billflow worker` processes for the fault tests: started on a database, killed, started again.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Queryable } from '../../src/db/types.ts';
import { WorkerProcess } from './harness.ts';

const BIN = path.resolve('bin/billflow.js');

/** A worker process with a short lease and fast polling, so a killed one's runs move on quickly. */
export function billflowWorker(url: string, label: string): WorkerProcess {
  const child = spawn(process.execPath, [BIN, 'worker'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: url,
      LOG_LEVEL: 'info',
      BILLFLOW_LEASE_MS: '2000',
      BILLFLOW_POLL_INTERVAL_MS: '200',
      BILLFLOW_WORKER_CONCURRENCY: '16',
      BILLFLOW_MAINTENANCE_INTERVAL_MS: '600000',
    },
  });
  return new WorkerProcess(`billflow_worker_${label}_${randomBytes(2).toString('hex')}`, child);
}

/** How many runs there are in each status. */
export async function runStatuses(db: Queryable) {
  const { rows } = await db.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM workflow_runs GROUP BY status',
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
}
