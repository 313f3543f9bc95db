import { performance } from 'node:perf_hooks';
import { BillflowError, RetryableError, isRetryable } from '../errors.ts';
import { retryDelayMs } from './backoff.ts';
import { DEFAULT_STEP_TIMEOUT_MS, asStepControl, controlKind, retryPolicy, stepIdempotencyKey } from './define.ts';
import type { StepContext, StepDefinition } from './define.ts';
import type { ClaimedRun } from './sql/claimRuns.ts';
import type { StepOutcome } from './sql/recordOutcomes.ts';

/** A run this worker holds a lease on, as it knows it between steps. */
export interface HeldRunState {
  id: string;
  type: string;
  steps: string[];
  stepIndex: number;
  /** Attempts already made on the current step. */
  attempt: number;
  input: unknown;
  version: number;
  outputs: Record<string, unknown>;
  state: unknown;
  interrupted: boolean;
  /** Attempts recorded on the current step before this worker claimed it. */
  priorAttempts: number;
  previousOwner: string | null;
  claimedAt: Date;
  /** performance.now() at which the lease is known to expire. */
  leaseDeadline: number;
  abort: AbortController;
  lost: boolean;
}

/** The state a worker keeps of a run it has just claimed. */
export function heldRun(row: ClaimedRun, claimedAt: Date): HeldRunState {
  return {
    id: row.id,
    type: row.type,
    steps: row.steps,
    stepIndex: row.step_index,
    attempt: row.attempt,
    input: row.input,
    version: row.version,
    outputs: row.outputs ?? {},
    state: row.state,
    interrupted: row.previous_owner !== null,
    priorAttempts: row.prior_attempts,
    previousOwner: row.previous_owner,
    claimedAt,
    leaseDeadline: performance.now() + row.lease_left_ms,
    abort: new AbortController(),
    lost: false,
  };
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  retryable: boolean;
}

/** Errors of the program itself: the same code given the same data throws them again. */
const BUG_ERRORS = [TypeError, ReferenceError, SyntaxError, RangeError];

/** SQLSTATE classes that no retry changes: data exceptions (22) and wrong SQL (42). */
const PERMANENT_SQL_CLASSES = new Set(['22', '42']);

/** A network failure that node's fetch reports as a TypeError ("fetch failed", with a cause). */
function isNetworkFailure(error: Error): boolean {
  return error.message === 'fetch failed' || (error.cause !== undefined && error.cause !== null);
}

/**
 * Whether a step's error may pass on a retry. A Billflow error (or anything carrying
 * `retryable`) says so itself. Otherwise a bug (a TypeError such as reading a missing output, a
 * ReferenceError, …) or an SQL data/syntax error cannot change on retry: it fails the step at
 * once instead of repeating it. Anything else (network, timeouts, a lost connection) is retried.
 */
export function isRetryableStepError(error: unknown): boolean {
  if (error instanceof BillflowError) return error.retryable;
  if (error !== null && typeof error === 'object' && 'retryable' in error) return isRetryable(error);
  if (BUG_ERRORS.some((kind) => error instanceof kind) && !isNetworkFailure(error as Error)) return false;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && PERMANENT_SQL_CLASSES.has(code.slice(0, 2))) {
    return false;
  }
  return isRetryable(error);
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack, retryable: isRetryableStepError(error) };
  }
  return { name: 'Error', message: String(error), retryable: isRetryableStepError(error) };
}

export function stepContext(run: HeldRunState, step: StepDefinition<never>, now: () => Date): StepContext<unknown> {
  return {
    runId: run.id,
    type: run.type,
    step: step.name,
    stepIndex: run.stepIndex,
    input: run.input,
    outputs: run.outputs,
    attempt: run.attempt + 1,
    state: run.state ?? undefined,
    interrupted: run.interrupted,
    firstAttempt: run.priorAttempts === 0 && !run.interrupted && run.attempt === 0,
    idempotencyKey: stepIdempotencyKey(run.id, step.name),
    signal: run.abort.signal,
    now,
  };
}

/** Runs a handler under the step's timeout; the signal tells the handler to give up. */
export async function runWithTimeout<T>(
  run: HeldRunState,
  step: StepDefinition<never>,
  call: () => Promise<T>,
): Promise<T> {
  const timeoutMs = step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  if (!timeoutMs) return call();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new RetryableError(`step ${step.name} timed out after ${timeoutMs} ms`);
      run.abort.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([call(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface OutcomeBase {
  run: HeldRunState;
  step: string;
  startedAt: Date;
  endedAt: Date;
}

function attemptEntries(base: OutcomeBase, entry: Record<string, unknown>): unknown[] {
  const attempt = base.run.attempt + 1;
  const current = {
    attempt,
    // Strings already: JSON.stringify turns Dates into strings several times more slowly.
    started_at: base.startedAt.toISOString(),
    ended_at: base.endedAt.toISOString(),
    duration_ms: base.endedAt.getTime() - base.startedAt.getTime(),
    ...entry,
  };
  if (!base.run.interrupted) return [current];
  // The attempt before this one was cut off when its worker stopped renewing the lease.
  const lost = {
    attempt: attempt - 1,
    ended_at: base.run.claimedAt.toISOString(),
    outcome: 'interrupted',
    error: { name: 'LeaseExpired', message: `worker ${base.run.previousOwner} stopped; lease expired` },
  };
  return [lost, current];
}

/** What a step's return value means for the run. */
export function outcomeOfValue(base: OutcomeBase, value: unknown): StepOutcome {
  const common = {
    runId: base.run.id,
    version: base.run.version,
    stepIndex: base.run.stepIndex,
    step: base.step,
    startedAt: base.startedAt,
  };
  const control = asStepControl(value);
  if (control && controlKind(control) === 'wait' && 'until' in control) {
    return {
      ...common,
      kind: 'wait',
      runAt: control.until,
      state: control.state ?? null,
      attempts: attemptEntries(base, { outcome: 'waiting', until: control.until }),
    };
  }
  if (control && controlKind(control) === 'finish' && 'outcome' in control) {
    return {
      ...common,
      kind: 'finish',
      outcome: control.outcome,
      output: control.output ?? null,
      attempts: attemptEntries(base, { outcome: 'finished', run_outcome: control.outcome }),
    };
  }
  return {
    ...common,
    kind: 'done',
    output: value ?? null,
    attempts: attemptEntries(base, { outcome: 'completed' }),
  };
}

/** A thrown error: retry later if it may pass and attempts remain, otherwise fail the run. */
export function outcomeOfError(
  base: OutcomeBase,
  step: StepDefinition<never> | undefined,
  error: unknown,
): StepOutcome {
  const serialized = serializeError(error);
  const policy = step ? retryPolicy(step) : undefined;
  const attempt = base.run.attempt + 1;
  const retry = policy !== undefined && serialized.retryable && attempt < policy.maxAttempts;
  const common = {
    runId: base.run.id,
    version: base.run.version,
    stepIndex: base.run.stepIndex,
    step: base.step,
    startedAt: base.startedAt,
    error: serialized,
  };
  if (retry) {
    const delayMs = retryDelayMs(policy, attempt);
    return {
      ...common,
      kind: 'retry',
      delayMs,
      attempts: attemptEntries(base, { outcome: 'retrying', error: serialized, retry_in_ms: delayMs }),
    };
  }
  return { ...common, kind: 'fail', attempts: attemptEntries(base, { outcome: 'failed', error: serialized }) };
}
