import { connectPostgres } from '../../../src/db/postgres.ts';
import { openPglite } from '../../../src/db/pglite.ts';
import { tuneV8ForService } from '../../../src/v8-tuning.ts';
import { migrate } from '../../../src/db/migrate.ts';
import type { Db } from '../../../src/db/types.ts';
import { createRegistry, createStarter, createWorker, defineWorkflow } from '../../../src/engine/index.ts';
import type { StepDefinition } from '../../../src/engine/index.ts';
import type { AdapterFactory } from '../harness.ts';
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

// External steps: the engine batches their checkpoints across runs.
const externalSteps: StepDefinition<BenchInput>[] = STEP_NAMES.map((name, index) => ({
  name,
  kind: 'external',
  run: async (ctx) => trivialStep(ctx.input, index),
}));

// Db steps: the write and the checkpoint commit together; ready db steps of several runs share
// one transaction (group commit, src/engine/db-batch.ts).
// Each step is one insert that reads nothing, so it is declared `sideBySide`: a batch runs the
// attempts of one step together, their inserts pipelined (DbStep.sideBySide says when a step may).
const dbSteps: StepDefinition<BenchInput>[] = STEP_NAMES.map((name, index) => ({
  name,
  kind: 'db',
  sideBySide: true,
  run: async (ctx) => {
    await ctx.tx.query(INSERT_RECORD, recordParams(ctx.runId, ctx.input, index));
    return trivialStep(ctx.input, index);
  },
}));

/**
 * Billflow through its public API only: createWorker, createStarter given that worker (an
 * in-process start is inserted already claimed by it while it has room), the completion hook.
 * Billflow's own defaults for everything else (batch sizes, statements in flight).
 */
export const billflow: AdapterFactory = async (task, onCompleted) => {
  // As `billflow start` runs the embedded database.
  if (task.database === 'pglite') tuneV8ForService({ embeddedDatabase: true });
  const db: Db =
    task.database === 'postgres'
      ? connectPostgres({ connectionString: task.target, maxConnections: task.tuning.pool })
      : await openPglite(task.target);
  await migrate(db);
  if (task.workload === 'db') await db.query(RECORDS_TABLE);
  const workflow = defineWorkflow<BenchInput>({
    type: `bench.five_${task.workload}_steps`,
    steps: task.workload === 'db' ? dbSteps : externalSteps,
  });
  const registry = createRegistry([workflow]);
  const worker = createWorker(db, {
    registry,
    concurrency: task.tuning.concurrency,
    pollIntervalMs: task.tuning.billflowPollIntervalMs,
    // Called after the final step's checkpoint is committed.
    hooks: { onRunCompleted: (event) => onCompleted(event.runId) },
  });
  await worker.start();
  // Starts arriving together share one insert; each caller still waits for its own commit.
  const starter = createStarter(db, registry, { worker });
  const t = task.tuning;
  return {
    notes: `${task.workload} steps, concurrency ${t.concurrency}, pool ${task.database === 'postgres' ? t.pool : 1}, fallback poll ${t.billflowPollIntervalMs} ms`,
    async start(n) {
      const started = await starter.start({ type: workflow.type, input: { n } });
      return started.runId;
    },
    async verify(runs) {
      if (task.workload !== 'db') return 'no rows to check';
      const { rows } = await db.query<{ n: number }>(COUNT_RECORDS);
      return checkRecords(rows[0]?.n, runs);
    },
    async stop() {
      await worker.stop({ graceMs: 5_000 });
      await db.close();
    },
  };
};
