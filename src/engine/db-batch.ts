// Group commit for db steps: the db steps of several runs that are ready at the same moment
// execute in ONE transaction, each inside its own savepoint, and their checkpoints are recorded
// by the same batched statement. A step's writes commit if and only if its checkpoint does.
import type { Db, Queryable } from '../db/types.ts';
import type { DbStepContext, StepDefinition } from './define.ts';
import { outcomeOfError, outcomeOfValue, runWithTimeout, stepContext } from './execute.ts';
import type { HeldRunState } from './execute.ts';
import type { StepScope } from './hooks.ts';
import type { ClaimedRun } from './sql/claimRuns.ts';
import { recordOutcomes } from './sql/recordOutcomes.ts';
import { newestPerRun } from './stale-copies.ts';
import type { ClaimInPassing, RecordedOutcome, StepOutcome } from './sql/recordOutcomes.ts';

export interface DbJob {
  run: HeldRunState;
  step: StepDefinition<never>;
  startedAt: Date;
  /** The attempt's scope (a trace span), re-entered around its step code in the shared batch. */
  scope?: StepScope;
  /** Called in the batch's transaction once this job's failure of its run is recorded. */
  onFailed?: (tx: Queryable, outcome: StepOutcome) => Promise<void>;
}

export interface DbJobResult {
  outcome: StepOutcome;
  /** Undefined when the run was taken over or changed meanwhile: nothing of the step committed. */
  recorded: RecordedOutcome | undefined;
}

export interface DbBatchOptions {
  leaseMs: number;
  now: () => Date | null;
  appNow: () => Date;
  /** Places to hand to due runs claimed by the same statement (see recordOutcomes). */
  claimFor?: (outcomes: StepOutcome[]) => ClaimInPassing | undefined;
  /** A transaction of the batch that conflicts (deadlock, serialization) is tried again this often. */
  conflictRetries?: number;
}

/** Deadlock or serialization failure: the whole batch is tried again, nothing of it committed. */
const CONFLICT_CODES = new Set(['40P01', '40001']);

function isConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONFLICT_CODES.has(code);
}

class BatchConflict extends Error {
  constructor(readonly conflict: unknown) {
    super('db step batch conflicted with another transaction');
  }
}

/** Runs whose checkpoint was refused (lease lost): the batch is redone without them. */
class LeasesLost extends Error {
  constructor(readonly runIds: Set<string>) {
    super('some runs of the batch changed hands');
  }
}

/**
 * Steps of the same name touch rows in the same order (a stats step: its counters), so running
 * a batch in step-name order, then run id, makes concurrent batches take row locks in one order
 * and keeps them from deadlocking each other; a deadlock that happens anyway retries the batch.
 */
function lockOrder(a: DbJob, b: DbJob): number {
  return a.step.name < b.step.name ? -1 : a.step.name > b.step.name ? 1 : a.run.id < b.run.id ? -1 : 1;
}

async function runInSavepoint(tx: Queryable, job: DbJob, options: DbBatchOptions): Promise<StepOutcome> {
  const { run, step, startedAt } = job;
  await tx.query('SAVEPOINT billflow_step');
  try {
    const ctx: DbStepContext<never> = { ...(stepContext(run, step, options.appNow) as DbStepContext<never>), tx };
    const scope = job.scope;
    const value = await runWithTimeout(run, step, () => (scope ? scope.enter(() => step.run(ctx)) : step.run(ctx)));
    await tx.query('RELEASE SAVEPOINT billflow_step');
    return outcomeOfValue({ run, step: step.name, startedAt, endedAt: options.appNow() }, value);
  } catch (error) {
    if (isConflict(error)) throw new BatchConflict(error);
    // Only this step's writes go; the batch goes on and records the failure with the others.
    await tx.query('ROLLBACK TO SAVEPOINT billflow_step');
    return outcomeOfError({ run, step: step.name, startedAt, endedAt: options.appNow() }, step, error);
  }
}

async function oneTransaction(db: Db, jobs: DbJob[], options: DbBatchOptions) {
  return db.transaction(async (tx) => {
    const outcomes: StepOutcome[] = [];
    for (const job of jobs) outcomes.push(await runInSavepoint(tx, job, options));
    const claim = options.claimFor?.(outcomes);
    let result;
    try {
      result = await recordOutcomes(tx, outcomes, { leaseMs: options.leaseMs, now: options.now(), claim });
    } catch (error) {
      throw isConflict(error) ? new BatchConflict(error) : error;
    }
    if (result.recorded.length < outcomes.length) {
      const recorded = new Set(result.recorded.map((r) => r.id));
      // Rolls back: a step whose checkpoint is refused must leave no write behind.
      throw new LeasesLost(new Set(jobs.map((j) => j.run.id).filter((id) => !recorded.has(id))));
    }
    for (const [i, job] of jobs.entries()) {
      const outcome = outcomes[i] as StepOutcome;
      if (outcome.kind === 'fail' && job.onFailed) await job.onFailed(tx, outcome);
    }
    return { outcomes, recorded: result.recorded, claimed: result.claimed, asked: claim?.limit ?? 0 };
  });
}

/**
 * Executes the jobs' steps and records them, committed together. Jobs whose run was taken over
 * get no record (and nothing of theirs commits); a conflict with another transaction retries the
 * batch, then each job alone. Other database errors reject: the caller cannot know what landed.
 */
export async function executeDbBatch(
  db: Db,
  jobs: DbJob[],
  options: DbBatchOptions,
): Promise<{ results: Map<DbJob, DbJobResult>; claimed: ClaimedRun[]; asked: number }> {
  const results = new Map<DbJob, DbJobResult>();
  const claimed: ClaimedRun[] = [];
  let asked = 0;
  // A stale copy of a run is refused without running its step: its version is already superseded.
  const { newest, stale } = newestPerRun(jobs, (job) => ({ runId: job.run.id, version: job.run.version }));
  for (const job of stale) results.set(job, { outcome: undefined as never, recorded: undefined });
  let pending = [...newest].sort(lockOrder);
  let conflicts = 0;
  const maxConflicts = options.conflictRetries ?? 3;
  while (pending.length > 0) {
    // After repeated conflicts, one job per transaction: the smallest unit that can conflict.
    const batch = conflicts >= maxConflicts ? pending.slice(0, 1) : pending;
    try {
      const done = await oneTransaction(db, batch, options);
      const byRun = new Map(done.recorded.map((r) => [r.id, r]));
      batch.forEach((job, i) => {
        results.set(job, { outcome: done.outcomes[i] as StepOutcome, recorded: byRun.get(job.run.id) });
      });
      claimed.push(...done.claimed);
      asked += done.asked;
      pending = pending.slice(batch.length);
    } catch (error) {
      if (error instanceof LeasesLost) {
        // Never the same batch again: a refusal that names none of its runs is a defect, not a retry.
        if (!batch.some((job) => error.runIds.has(job.run.id))) throw new Error('a refused checkpoint named no run');
        for (const job of batch) {
          if (error.runIds.has(job.run.id)) results.set(job, { outcome: undefined as never, recorded: undefined });
        }
        pending = pending.filter((job) => !error.runIds.has(job.run.id));
      } else if (error instanceof BatchConflict) {
        conflicts++;
        if (conflicts > maxConflicts + pending.length) throw error.conflict;
      } else {
        throw error;
      }
    }
  }
  return { results, claimed, asked };
}
