import { connectPostgres } from '../../../src/db/postgres.ts';
import { tuneV8ForEmbeddedDatabase, openPglite } from '../../../src/db/pglite.ts';
import { migrate } from '../../../src/db/migrate.ts';
import type { Db } from '../../../src/db/types.ts';
import { createRegistry, createStarter, createWorker, defineWorkflow } from '../../../src/engine/index.ts';
import type { StepDefinition } from '../../../src/engine/index.ts';
import type { AdapterFactory } from '../harness.ts';
import { STEP_NAMES, trivialStep } from './work.ts';
import type { BenchInput } from './work.ts';

const steps: StepDefinition<BenchInput>[] = STEP_NAMES.map((name, index) => ({
  name,
  // External steps are the ordinary kind: the engine batches their results across runs.
  kind: 'external',
  run: async (ctx) => trivialStep(ctx.input, index),
}));

const workflow = defineWorkflow<BenchInput>({ type: 'bench.five_steps', steps });

/** Billflow through its public API only: createStarter, createWorker, the completion hook. */
export const billflow: AdapterFactory = async (task, onCompleted) => {
  // As `billflow start` runs the embedded database.
  if (task.database === 'pglite') tuneV8ForEmbeddedDatabase();
  const db: Db =
    task.database === 'postgres'
      ? connectPostgres({ connectionString: task.target, maxConnections: task.tuning.pool })
      : await openPglite(task.target);
  await migrate(db);
  const registry = createRegistry([workflow]);
  const worker = createWorker(db, {
    registry,
    concurrency: task.tuning.concurrency,
    pollIntervalMs: task.tuning.billflowPollIntervalMs,
    maxBatch: task.tuning.maxBatch,
    maxInFlight: task.tuning.maxInFlight,
    // Called after the final step's result is committed.
    hooks: { onRunCompleted: (event) => onCompleted(event.runId) },
  });
  await worker.start();
  // Starts arriving together share one insert; each caller still waits for its own commit. A
  // start goes straight to this process's worker while it has room.
  const starter = createStarter(db, registry, { worker });
  const t = task.tuning;
  return {
    notes: `concurrency ${t.concurrency}, poll ${t.billflowPollIntervalMs} ms, pool ${task.database === 'postgres' ? t.pool : 1}, maxBatch ${t.maxBatch}, maxInFlight ${t.maxInFlight}`,
    async start(n) {
      const started = await starter.start({ type: workflow.type, input: { n } });
      return started.runId;
    },
    async stop() {
      await worker.stop({ graceMs: 5_000 });
      await db.close();
    },
  };
};
