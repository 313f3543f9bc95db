// The run side of a db-step chain (db-batch.ts): once a run's db step is done in a batch and its
// next step is a db step too, that step runs in the same transaction. This builds its job and
// keeps its attempt's scope (a trace span) across the passes of the batch.
import { performance } from 'node:perf_hooks';
import type { Queryable } from '../db/types.ts';
import type { DbJob, DbJobResult } from './db-batch.ts';
import type { Registry, StepDefinition, WorkflowDefinition } from './define.ts';
import type { HeldRunState } from './execute.ts';
import type { AttemptOutcome, EngineHooks, Logger, StepScope } from './hooks.ts';
import { callHook } from './hooks.ts';
import type { StepOutcome } from './sql/recordOutcomes.ts';

export interface ChainDeps {
  registry: Registry;
  hooks: EngineHooks;
  logger: Logger;
  appNow: () => Date;
  stopping: () => boolean;
  /** Called in the batch's transaction once a chained step's failure of its run is recorded. */
  onFailed: (
    run: HeldRunState,
    definition: WorkflowDefinition<unknown>,
  ) => ((tx: Queryable, outcome: StepOutcome) => Promise<void>) | undefined;
}

interface ChainedAttempt {
  scope: StepScope | undefined;
  began: number;
  startedAt: Date;
  runId: string;
  type: string;
  step: string;
}

/** The chain of one batch: `next` for executeDbBatch, `end` once the batch is over. */
export function batchChain(deps: ChainDeps) {
  // A chained step's job is made again in each pass of the batch; its attempt only once.
  const attempts = new Map<string, ChainedAttempt>();
  return {
    /**
     * The job for the run's next step when it is a db step of the workflow itself; the state it
     * sees is the one the run will have once the done step's checkpoint commits. A step found
     * only by `resolveStep`, or a worker stopping, ends the chain: the run loop goes on as usual.
     */
    next(job: DbJob, outcome: StepOutcome): DbJob | undefined {
      if (deps.stopping()) return undefined;
      const definition = deps.registry.get(job.run.type) as WorkflowDefinition<unknown> | undefined;
      const stepIndex = job.run.stepIndex + 1;
      const name = job.run.steps[stepIndex];
      const step = definition?.steps.find((s) => s.name === name) as StepDefinition<never> | undefined;
      if (!definition || !step || step.kind !== 'db') return undefined;
      const run: HeldRunState = {
        ...job.run,
        outputs: { ...job.run.outputs, [outcome.step]: outcome.output ?? null },
        stepIndex,
        attempt: 0,
        state: undefined,
        interrupted: false,
        priorAttempts: 0,
      };
      const key = `${run.id}:${stepIndex}`;
      let attempt = attempts.get(key);
      if (!attempt) {
        const scope = deps.hooks.stepScope?.({ runId: run.id, type: run.type, step: step.name, attempt: 1 });
        attempt = {
          scope,
          began: performance.now(),
          startedAt: deps.appNow(),
          runId: run.id,
          type: run.type,
          step: step.name,
        };
        attempts.set(key, attempt);
      }
      const onFailed = deps.onFailed(run, definition);
      return {
        run,
        step,
        startedAt: attempt.startedAt,
        began: attempt.began,
        ...(attempt.scope ? { scope: attempt.scope } : {}),
        ...(onFailed ? { onFailed } : {}),
      };
    },
    /**
     * Ends the scopes that no committed result carries (a pass redone shorter, a batch that
     * failed); the run loop ends the others when it reports their attempts.
     */
    end(results: Map<DbJob, DbJobResult> | undefined): void {
      if (attempts.size === 0) return;
      const used = new Set<StepScope | undefined>();
      for (const result of results?.values() ?? []) for (const c of result.chained) used.add(c.job.scope);
      for (const { scope, began, runId, type, step } of attempts.values()) {
        if (!scope || used.has(scope)) continue;
        const outcome: AttemptOutcome = results ? 'rejected' : 'unrecorded';
        const event = { runId, type, step, attempt: 1, outcome, durationMs: performance.now() - began };
        callHook(deps.logger, (e: typeof event) => scope.end(e), event);
      }
    },
  };
}
