import { after } from 'node:test';
import type { Db } from '../../src/db/types.ts';
import { createRegistry, createWorker } from '../../src/engine/index.ts';
import type { AnyWorkflow, WorkerOptions } from '../../src/engine/index.ts';

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
