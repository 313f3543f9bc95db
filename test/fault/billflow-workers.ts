// `billflow worker` processes for the fault tests: started on a database, killed, started again.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Db, Queryable } from '../../src/db/types.ts';
import { billingRegistry } from '../../src/billing/workflows/index.ts';
import type { PaymentProvider } from '../../src/providers/index.ts';
import { createEmailTransport } from '../../src/notify/index.ts';
import { WorkerProcess } from './harness.ts';

const BIN = path.resolve('bin/billflow.js');

/** A worker process with a short lease and fast polling, so a killed one's runs move on quickly. */
export function billflowWorker(url: string, label: string, env: Record<string, string> = {}): WorkerProcess {
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
      ...env,
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

/**
 * The registry of the test process, which only starts runs (the operations need it); the
 * worker processes run them.
 */
export function startingRegistry(db: Db, provider: PaymentProvider) {
  return billingRegistry({
    db,
    provider,
    notify: {
      email: createEmailTransport({ from: 'Billing <billing@acme.test>' }),
      fetch: globalThis.fetch,
      clock: () => new Date(),
      adminUrl: 'http://billflow.test',
      company: { name: 'Acme', support_email: 'support@acme.test' },
    },
  });
}

/** Two worker processes, both started. */
export async function twoWorkers(url: string): Promise<WorkerProcess[]> {
  const workers = [billflowWorker(url, 'a'), billflowWorker(url, 'b')];
  await Promise.all(workers.map((w) => w.waitFor('worker started', (l) => l.msg === 'worker started', 60_000)));
  return workers;
}

/** Kills the first worker with -9 and starts another in its place. */
export async function killAndReplace(url: string, workers: WorkerProcess[]): Promise<void> {
  workers[0]?.child.kill('SIGKILL');
  await workers[0]?.exited;
  const again = billflowWorker(url, 'a2');
  workers.push(again);
  await again.waitFor('worker started', (l) => l.msg === 'worker started', 60_000);
}
