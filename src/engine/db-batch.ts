// Group commit for db steps: the db steps of several runs that are ready at the same moment
// execute in ONE transaction and their checkpoints are recorded by the same batched statement.
// A run whose step is done and whose next step is a db step goes on with it in the same
// transaction (a chain, see DbBatchOptions.chain), recorded by the next statement before COMMIT.
// A step's writes commit if and only if its checkpoint does; a step that throws leaves no write
// and is recorded failed or retrying while the others commit (see Pass).
import type { Db, Queryable } from '../db/types.ts';
import type { DbStepContext, StepDefinition } from './define.ts';
import { attemptTransaction } from './attempt-tx.ts';
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
  /** performance.now() when the attempt began, for a chained step's duration. */
  began?: number;
}

/** A step that ran after the job's own in the same transaction, and its committed checkpoint. */
export interface ChainedStep {
  job: DbJob;
  outcome: StepOutcome;
  recorded: RecordedOutcome;
}

export interface DbJobResult {
  outcome: StepOutcome;
  /** Undefined when the run was taken over or changed meanwhile: nothing of the step committed. */
  recorded: RecordedOutcome | undefined;
  /** The run's next steps that ran and were recorded in the same transaction, in order. */
  chained: ChainedStep[];
}

export interface DbBatchOptions {
  leaseMs: number;
  now: () => Date | null;
  appNow: () => Date;
  /** Places to hand to due runs claimed by the same statement (see recordOutcomes). */
  claimFor?: (outcomes: StepOutcome[]) => ClaimInPassing | undefined;
  /** A transaction of the batch that conflicts (deadlock, serialization) is tried again this often. */
  conflictRetries?: number;
  /**
   * The job for the run's next step once `job`'s step is done and recorded with the run going on,
   * or undefined to stop there (not a db step, the worker stopping). Called again for each pass.
   */
  chain?: (job: DbJob, outcome: StepOutcome) => DbJob | undefined;
  /** Steps one run takes in one transaction at most, its first included. */
  maxChain?: number;
}

/** Steps per run and transaction: bounds how long a batch holds its locks and connection. */
const MAX_CHAIN = 8;

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

/**
 * How a pass over the batch runs its steps. A savepoint costs two round trips per step (SAVEPOINT,
 * RELEASE) where a step usually makes one of its own, so a batch first runs with none: its steps
 * in the bare transaction (see runLayer). A step that throws there rolls the whole pass back
 * (nothing of it committed) and the batch is done again with that attempt's failure recorded as
 * it was, its step not run again; the others run once more, which a conflict retry already does
 * and which leaves nothing behind (a db step writes only through its transaction).
 */
interface Pass {
  /** Steps that threw in a rolled-back pass (by stepKey): recorded with that failure, not run again. */
  failed: Map<string, StepOutcome>;
  /** Every step in a savepoint of its own, one after the other: after repeated throws, or an aborted transaction. */
  guarded: boolean;
}

/** Rolled-back passes (a step threw) after which every step of the batch gets its savepoint. */
const UNGUARDED_PASSES = 2;

/** Steps threw outside any savepoint: the pass rolls back and the batch is done again without them. */
class StepsThrew extends Error {
  constructor(readonly failures: { job: DbJob; outcome: StepOutcome }[]) {
    super('db steps threw outside a savepoint');
  }
}

/**
 * The transaction was already aborted: an earlier step swallowed an SQL error and returned. Which
 * one is unknown, so the batch is done again with every step in a savepoint of its own.
 */
class TransactionAborted extends Error {
  constructor() {
    super('a db step left the batch transaction aborted');
  }
}

/** A chained step's job is made anew in each pass: its step is known by run and index. */
function stepKey(job: DbJob): string {
  return `${job.run.id}:${job.run.stepIndex}`;
}

function isAborted(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '25P02';
}

async function runStep(tx: Queryable, job: DbJob, options: DbBatchOptions, guarded: boolean): Promise<StepOutcome> {
  const { run, step, startedAt } = job;
  if (guarded) await tx.query('SAVEPOINT billflow_step');
  const attempt = attemptTransaction(tx, step.name);
  try {
    const ctx: DbStepContext<never> = {
      ...(stepContext(run, step, options.appNow) as DbStepContext<never>),
      tx: attempt.tx,
    };
    const scope = job.scope;
    const value = await runWithTimeout(run, step, () =>
      scope ? scope.enter(() => step.run(ctx)) : step.run(ctx),
    ).finally(() => attempt.end());
    if (guarded) await tx.query('RELEASE SAVEPOINT billflow_step');
    return outcomeOfValue({ run, step: step.name, startedAt, endedAt: options.appNow() }, value);
  } catch (error) {
    if (isConflict(error)) throw new BatchConflict(error);
    if (!guarded && isAborted(error)) throw new TransactionAborted();
    const outcome = outcomeOfError({ run, step: step.name, startedAt, endedAt: options.appNow() }, step, error);
    if (!guarded) throw new StepsThrew([{ job, outcome }]);
    // Only this step's writes go; the batch goes on and records the failure with the others.
    await tx.query('ROLLBACK TO SAVEPOINT billflow_step');
    return outcome;
  }
}

/** True when `other` may run beside `job`: the same step, declared `sideBySide`. */
function besides(job: DbJob, other: DbJob | undefined): boolean {
  return other !== undefined && job.step.kind === 'db' && job.step.sideBySide === true && other.step === job.step;
}

/**
 * A layer's steps, in lock order. A guarded pass runs them one after the other, each in its
 * savepoint. An unguarded one (see Pass) runs them one after the other too, except that the
 * attempts of a step declared `sideBySide` run together, their queries pipelined.
 * Every step that threw is reported, not only the first: each ran its attempt to its end, and
 * running it again would make two attempts of one. A step whose query found the transaction
 * aborted by another's error is not among them; it runs again.
 */
async function runLayer(tx: Queryable, layer: DbJob[], options: DbBatchOptions, pass: Pass): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  if (pass.guarded) {
    for (const job of layer) outcomes.push(pass.failed.get(stepKey(job)) ?? (await runStep(tx, job, options, true)));
    return outcomes;
  }
  for (let from = 0; from < layer.length;) {
    const first = layer[from] as DbJob;
    let to = from + 1;
    while (besides(first, layer[to])) to++;
    const settled = await Promise.allSettled(
      layer.slice(from, to).map((job) => pass.failed.get(stepKey(job)) ?? runStep(tx, job, options, false)),
    );
    const threw: StepsThrew['failures'] = [];
    let aborted: unknown;
    for (const result of settled) {
      if (result.status === 'fulfilled') outcomes.push(result.value);
      else if (result.reason instanceof BatchConflict) throw result.reason;
      else if (result.reason instanceof StepsThrew) threw.push(...result.reason.failures);
      else aborted ??= result.reason;
    }
    if (threw.length > 0) throw new StepsThrew(threw);
    if (aborted !== undefined) throw aborted;
    from = to;
  }
  return outcomes;
}

interface StepDone {
  job: DbJob;
  outcome: StepOutcome;
  recorded: RecordedOutcome;
}

async function recordLayer(tx: Queryable, jobs: DbJob[], outcomes: StepOutcome[], options: DbBatchOptions, pass: Pass) {
  const claim = options.claimFor?.(outcomes);
  let result;
  try {
    result = await recordOutcomes(tx, outcomes, { leaseMs: options.leaseMs, now: options.now(), claim });
  } catch (error) {
    if (isConflict(error)) throw new BatchConflict(error);
    // The last step swallowed an SQL error: only a pass with savepoints tells which one it was.
    throw !pass.guarded && isAborted(error) ? new TransactionAborted() : error;
  }
  const byRun = new Map(result.recorded.map((r) => [r.id, r]));
  if (byRun.size < outcomes.length) {
    // Rolls back: a step whose checkpoint is refused must leave no write behind.
    throw new LeasesLost(new Set(jobs.map((j) => j.run.id).filter((id) => !byRun.has(id))));
  }
  return { byRun, claimed: result.claimed, asked: claim?.limit ?? 0 };
}

/**
 * One pass in one transaction: the jobs' steps, their checkpoints, then layer by layer the steps
 * the runs go on with (chain), each layer in lock order and recorded before the next one runs.
 */
async function oneTransaction(db: Db, jobs: DbJob[], options: DbBatchOptions, pass: Pass) {
  return db.transaction(async (tx) => {
    const done: StepDone[] = [];
    const headOf = new Map<DbJob, DbJob>(jobs.map((job) => [job, job]));
    const claimed: ClaimedRun[] = [];
    let asked = 0;
    let layer = jobs;
    const maxChain = options.chain ? (options.maxChain ?? MAX_CHAIN) : 1;
    for (let depth = 1; layer.length > 0; depth++) {
      const outcomes = await runLayer(tx, layer, options, pass);
      const recorded = await recordLayer(tx, layer, outcomes, options, pass);
      claimed.push(...recorded.claimed);
      asked += recorded.asked;
      const next: DbJob[] = [];
      for (const [i, job] of layer.entries()) {
        const outcome = outcomes[i] as StepOutcome;
        const row = recorded.byRun.get(job.run.id) as RecordedOutcome;
        done.push({ job, outcome, recorded: row });
        if (outcome.kind === 'fail' && job.onFailed) await job.onFailed(tx, outcome);
        if (depth >= maxChain || outcome.kind !== 'done' || !row.continues) continue;
        const then = options.chain?.(job, outcome);
        if (!then) continue;
        headOf.set(then, headOf.get(job) as DbJob);
        next.push(then);
      }
      layer = next.sort(lockOrder);
    }
    return { done, headOf, claimed, asked };
  });
}

/**
 * Executes the jobs' steps and records them, committed together. Jobs whose run was taken over
 * get no record (and nothing of theirs commits); a step that throws is recorded failed or
 * retrying with nothing of it committed (see Pass); a conflict with another transaction retries
 * the batch, then each job alone. Other database errors reject: the caller cannot know what landed.
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
  for (const job of stale) results.set(job, { outcome: undefined as never, recorded: undefined, chained: [] });
  let pending = [...newest].sort(lockOrder);
  let conflicts = 0;
  const maxConflicts = options.conflictRetries ?? 3;
  const pass: Pass = { failed: new Map(), guarded: false };
  let threw = 0;
  while (pending.length > 0) {
    // After repeated conflicts, one job per transaction: the smallest unit that can conflict.
    const batch = conflicts >= maxConflicts ? pending.slice(0, 1) : pending;
    try {
      const done = await oneTransaction(db, batch, options, pass);
      for (const step of done.done) {
        const head = done.headOf.get(step.job) as DbJob;
        if (head === step.job) results.set(head, { outcome: step.outcome, recorded: step.recorded, chained: [] });
        else results.get(head)?.chained.push(step);
      }
      claimed.push(...done.claimed);
      asked += done.asked;
      pending = pending.slice(batch.length);
    } catch (error) {
      if (error instanceof LeasesLost) {
        // Never the same batch again: a refusal that names none of its runs is a defect, not a retry.
        if (!batch.some((job) => error.runIds.has(job.run.id))) throw new Error('a refused checkpoint named no run');
        for (const job of batch) {
          if (error.runIds.has(job.run.id)) {
            results.set(job, { outcome: undefined as never, recorded: undefined, chained: [] });
          }
        }
        pending = pending.filter((job) => !error.runIds.has(job.run.id));
      } else if (error instanceof StepsThrew) {
        for (const { job, outcome } of error.failures) pass.failed.set(stepKey(job), outcome);
        // Each such pass runs the steps that did not throw again: a batch that keeps throwing
        // pays for savepoints instead.
        if (++threw >= UNGUARDED_PASSES) pass.guarded = true;
      } else if (error instanceof TransactionAborted) {
        pass.guarded = true;
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
