// Small pieces the billing workflows share: retry policies and reading earlier steps' outputs.
import { isSkippedOutput } from '../../../engine/index.ts';
import type { ConcurrencyPolicy, RetryPolicy, SkippedOutput, StepContext } from '../../../engine/index.ts';
import { PermanentError } from '../../../errors.ts';

/**
 * Provider calls: a 5xx or a network error usually clears within minutes; the calls are keyed
 * and looked up on re-run, so retrying never acts twice. A 4xx is a PermanentError: no retry.
 */
export const PROVIDER_RETRY: Partial<RetryPolicy> = {
  maxAttempts: 5,
  initialDelayMs: 5_000,
  maxDelayMs: 5 * 60_000,
  factor: 3,
  jitter: 0.25,
};

/** Db steps only fail on contention or a lost connection: retry soon. */
export const DB_RETRY: Partial<RetryPolicy> = { maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 30_000 };

/**
 * The output of an earlier step of the same run, or the marker an operator's skip left (the
 * engine keeps them by step name): a step that reads a step which may be skipped says what a
 * skip means for it. A missing output is a bug: permanent, no retry changes it.
 */
export function outputOrSkipped<T>(ctx: StepContext<unknown>, step: string): T | SkippedOutput {
  const output = ctx.outputs[step];
  if (output === undefined || output === null) {
    throw new PermanentError(`step ${step} has no output in run ${ctx.runId}`);
  }
  return output as T | SkippedOutput;
}

/** The output of an earlier step; that step having been skipped fails this one for good, saying so. */
export function outputOf<T>(ctx: StepContext<unknown>, step: string): T {
  const output = outputOrSkipped<T>(ctx, step);
  if (isSkippedOutput(output)) {
    throw new PermanentError(
      `step ${ctx.step} needs the output of ${step}, which an operator skipped (${output.reason})`,
    );
  }
  return output;
}

/** ISO text for a date, as step outputs and template data carry them. */
export function iso(date: Date | string | null | undefined): string | null {
  if (date === null || date === undefined) return null;
  return (date instanceof Date ? date : new Date(date)).toISOString();
}

/**
 * Every workflow's runs about one customer execute one at a time, in start order: a cancellation
 * never reaches the provider before the creation it cancels, a refund never races its payment,
 * dunning never charges while a cancellation is half done. A run parked on a durable wait (an
 * invoice awaiting payment, dunning between attempts) lets the customer's other runs go
 * meanwhile and takes its turn again when it wakes. Every start names the customer as its owner.
 */
export const ONE_RUN_PER_CUSTOMER: ConcurrencyPolicy<unknown> = {
  key: (_input, refs) => (refs.ownerRef ? `customer:${refs.ownerRef}` : undefined),
  holdWhileWaiting: false,
};
