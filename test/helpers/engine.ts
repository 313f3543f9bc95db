import { after } from 'node:test';
import type { Db } from '../../src/db/types.ts';
import { createRegistry, createWorker } from '../../src/engine/index.ts';
import type { AnyWorkflow, WorkerOptions } from '../../src/engine/index.ts';
import { executeDbBatch } from '../../src/engine/db-batch.ts';
import type { DbJob } from '../../src/engine/db-batch.ts';
import type { StepDefinition } from '../../src/engine/define.ts';
import { heldRun } from '../../src/engine/execute.ts';
import { claimRuns } from '../../src/engine/sql/claimRuns.ts';
import type { ClaimedRun } from '../../src/engine/sql/claimRuns.ts';
import type { StepOutcome } from '../../src/engine/sql/recordOutcomes.ts';

/** A worker for one test, stopped when the test file ends. */
export function testWorker(db: Db, definitions: AnyWorkflow[], options: Partial<WorkerOptions> = {}) {
  const worker = createWorker(db, { registry: createRegistry(definitions), pollIntervalMs: 50, ...options });
  after(() => worker.stop({ graceMs: 1000 }));
  return worker;
}

/** Counts calls per step name, to prove what ran and what did not. */
export function callCounter() {
  const counts = new Map<string, number>();
  return {
    hit(name: string) {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return counts.get(name) as number;
    },
    get: (name: string) => counts.get(name) ?? 0,
    all: () => Object.fromEntries(counts),
  };
}

/** A promise and the function that resolves it, to hold a step until a test lets it go. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The result a worker records when a claimed run's current step returns `output`. */
export function doneOutcome(run: ClaimedRun, options: { output?: unknown; startedAt?: Date } = {}): StepOutcome {
  return {
    runId: run.id,
    version: run.version,
    stepIndex: run.step_index,
    step: run.steps[run.step_index] as string,
    kind: 'done',
    output: options.output ?? null,
    attempts: [],
    startedAt: options.startedAt ?? new Date(),
  };
}

/** Claims the due runs of `types` as worker "w" and makes each one a db-batch job of `stepOf(row)`. */
export async function claimDbJobs(
  db: Db,
  types: string[],
  stepOf: (row: ClaimedRun) => StepDefinition<never>,
): Promise<DbJob[]> {
  const claimed = await claimRuns(db, { workerId: 'w', types, limit: 100, leaseMs: 30_000, now: null });
  return claimed.map((row) => ({ run: heldRun(row, new Date()), step: stepOf(row), startedAt: new Date() }));
}

/** Executes `jobs` as one batch, on the database's clock, with the options a test adds. */
export function runDbBatch(db: Db, jobs: DbJob[], options: Partial<Parameters<typeof executeDbBatch>[2]> = {}) {
  return executeDbBatch(db, jobs, { leaseMs: 30_000, now: () => null, appNow: () => new Date(), ...options });
}
