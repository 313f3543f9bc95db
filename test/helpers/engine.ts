import { after } from 'node:test';
import type { Db } from '../../src/db/types.ts';
import { createRegistry, createWorker } from '../../src/engine/index.ts';
import type { AnyWorkflow, WorkerOptions } from '../../src/engine/index.ts';
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
