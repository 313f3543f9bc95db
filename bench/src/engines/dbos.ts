import { DBOS } from '@dbos-inc/dbos-sdk';
import { DBOSExecutor } from '@dbos-inc/dbos-sdk/internal/dbos-executor';
import type { AdapterFactory, OnCompleted } from '../harness.ts';
import {
  COUNT_RECORDS,
  INSERT_RECORD,
  RECORDS_TABLE,
  STEP_NAMES,
  checkRecords,
  recordParams,
  trivialStep,
} from './work.ts';
import type { BenchInput } from './work.ts';
import { registerNodePgDataSource, transaction, transactionClient } from './dbos-datasource.ts';
import pg from 'pg';

const QUEUE = 'bench_queue';

// External steps: each a DBOS step, its output checkpointed before the workflow goes on.
const externalSteps = STEP_NAMES.map((name, index) =>
  DBOS.registerStep(async (input: BenchInput) => trivialStep(input, index), { name }),
);

// Db steps: each a DBOS transaction, its write and its checkpoint committed together.
const dbSteps = STEP_NAMES.map((name, index) =>
  transaction(async (input: BenchInput) => {
    await transactionClient().query(INSERT_RECORD, recordParams(DBOS.workflowID ?? '', input, index));
    return trivialStep(input, index);
  }, name),
);

const fiveExternalSteps = DBOS.registerWorkflow(
  async (input: BenchInput) => {
    let last: unknown;
    for (const step of externalSteps) last = await step(input);
    return last;
  },
  { name: 'fiveExternalSteps' },
);

const fiveDbSteps = DBOS.registerWorkflow(
  async (input: BenchInput) => {
    let last: unknown;
    for (const step of dbSteps) last = await step(input);
    return last;
  },
  { name: 'fiveDbSteps' },
);

/**
 * Reports each workflow in this process once DBOS has committed its SUCCESS status: the moment
 * the other engines report (after the commit of the run's last checkpoint), observed the same
 * way, in process and without a query. DBOS has no completion hook, so this wraps the system
 * database's method that records a workflow's output; it adds no work to DBOS.
 */
function reportCompletions(onCompleted: OnCompleted): void {
  const sysdb = DBOSExecutor.globalInstance?.systemDatabase;
  if (!sysdb) throw new Error('DBOS is not launched');
  const record = sysdb.recordWorkflowOutput.bind(sysdb);
  sysdb.recordWorkflowOutput = async (...args) => {
    const recorded = await record(...args);
    if (recorded) onCompleted(args[0]);
    return recorded;
  };
}

/**
 * DBOS Transact on the same PostgreSQL server, its system database (and, for db steps, its
 * application database) in the pair's fresh database. `queue` mode is the like-for-like one: a
 * durable enqueue, then at most `concurrency` workflows executing in this process. `direct` mode
 * is DBOS.startWorkflow without a queue: the workflow starts executing at once in this process
 * (concurrency unbounded).
 */
export function dbosAdapter(mode: 'queue' | 'direct'): AdapterFactory {
  return async (task, onCompleted) => {
    if (task.database !== 'postgres') throw new Error('DBOS Transact for TypeScript runs on PostgreSQL only');
    if (task.workload === 'billing') throw new Error('the billing workload is Billflow only');
    const t = task.tuning;
    const dbSteps = task.workload === 'db';
    const query = async <R extends pg.QueryResultRow>(sql: string) => {
      const client = new pg.Client({ connectionString: task.target });
      await client.connect();
      try {
        return (await client.query<R>(sql)).rows;
      } finally {
        await client.end();
      }
    };
    if (dbSteps) {
      await query(RECORDS_TABLE);
      registerNodePgDataSource({ connectionString: task.target, max: t.pool });
    }
    DBOS.setConfig({
      name: 'billflow-bench',
      systemDatabaseUrl: task.target,
      systemDatabasePoolSize: t.pool,
      logLevel: 'error',
    });
    await DBOS.launch();
    reportCompletions(onCompleted);
    if (mode === 'queue') {
      await DBOS.registerQueue(QUEUE, { workerConcurrency: t.concurrency, minPollingIntervalMs: t.pollIntervalMs });
    }
    const workflow = dbSteps ? fiveDbSteps : fiveExternalSteps;
    const pools = dbSteps ? `system pool ${t.pool}, app pool ${t.pool}` : `pool ${t.pool}`;
    return {
      notes:
        (dbSteps ? 'db steps (DBOS transactions)' : 'external steps (DBOS steps)') +
        (mode === 'queue'
          ? `, queue workerConcurrency ${t.concurrency}, queue poll ${t.pollIntervalMs} ms, ${pools}`
          : `, direct start (no queue, unbounded concurrency), ${pools}`),
      async start(n) {
        const handle = await DBOS.startWorkflow(workflow, mode === 'queue' ? { queueName: QUEUE } : {})({ n });
        return handle.workflowID;
      },
      async verify(runs) {
        if (!dbSteps) return 'no rows to check';
        return checkRecords((await query<{ n: number }>(COUNT_RECORDS))[0]?.n, runs);
      },
      async stop() {
        await DBOS.shutdown();
      },
    };
  };
}
