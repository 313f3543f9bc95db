import { setTimeout as sleep } from 'node:timers/promises';
import { DBOS } from '@dbos-inc/dbos-sdk';
import pg from 'pg';
import type { AdapterFactory, OnCompleted } from '../harness.ts';
import { STEP_NAMES, trivialStep } from './work.ts';
import type { BenchInput } from './work.ts';

const QUEUE = 'bench_queue';
// completed_at is the database clock at the completing statement, and transactions commit out
// of that order: look back this far so a late committer is still seen.
const LOOKBACK_MS = 2_000;

// Each step is a DBOS step: its output is checkpointed before the workflow goes on.
const steps = STEP_NAMES.map((name, index) =>
  DBOS.registerStep(async (input: BenchInput) => trivialStep(input, index), { name }),
);

const fiveSteps = DBOS.registerWorkflow(
  async (input: BenchInput) => {
    let last: unknown;
    for (const step of steps) last = await step(input);
    return last;
  },
  { name: 'fiveSteps' },
);

/**
 * Reports completions of queued workflows. DBOS gives a queued workflow's caller only a handle
 * that polls the database once per workflow; one shared poll of the indexed completion time
 * costs DBOS far less than 2000 of those would.
 */
function watchCompletions(connectionString: string, onCompleted: OnCompleted): () => Promise<void> {
  const client = new pg.Client({ connectionString });
  const seen = new Set<string>();
  let since = 0;
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ id: string; at: string }>(
        `SELECT workflow_uuid AS id, completed_at AS at FROM dbos.workflow_status
         WHERE completed_at >= $1 AND status = 'SUCCESS'`,
        [since - LOOKBACK_MS],
      );
      for (const row of rows) {
        since = Math.max(since, Number(row.at));
        if (!seen.has(row.id)) {
          seen.add(row.id);
          onCompleted(row.id);
        }
      }
      await sleep(2);
    }
    await client.end();
  })();
  return async () => {
    running = false;
    await loop;
  };
}

/**
 * DBOS Transact on the same PostgreSQL server, with its own fresh system database.
 * `queue` mode is the like-for-like one: a durable enqueue, then at most `concurrency`
 * workflows executing in this process. `direct` mode is DBOS.startWorkflow without a queue:
 * the workflow starts executing at once in this process (concurrency unbounded).
 */
export function dbosAdapter(mode: 'queue' | 'direct'): AdapterFactory {
  return async (task, onCompleted) => {
    if (task.database !== 'postgres') throw new Error('DBOS Transact for TypeScript runs on PostgreSQL only');
    const t = task.tuning;
    DBOS.setConfig({
      name: 'billflow-bench',
      systemDatabaseUrl: task.target,
      systemDatabasePoolSize: t.pool,
      logLevel: 'error',
    });
    await DBOS.launch();
    let stopWatching: (() => Promise<void>) | undefined;
    if (mode === 'queue') {
      await DBOS.registerQueue(QUEUE, { workerConcurrency: t.concurrency, minPollingIntervalMs: t.pollIntervalMs });
      stopWatching = watchCompletions(task.target, onCompleted);
    }
    return {
      notes:
        mode === 'queue'
          ? `queue workerConcurrency ${t.concurrency}, poll ${t.pollIntervalMs} ms, pool ${t.pool}`
          : `direct start (no queue, unbounded concurrency), pool ${t.pool}`,
      async start(n) {
        const handle = await DBOS.startWorkflow(fiveSteps, mode === 'queue' ? { queueName: QUEUE } : {})({ n });
        // A direct start's handle resolves in memory once DBOS has recorded the output.
        if (mode === 'direct') void handle.getResult().then(() => onCompleted(handle.workflowID));
        return handle.workflowID;
      },
      async stop() {
        await stopWatching?.();
        await DBOS.shutdown();
      },
    };
  };
}
