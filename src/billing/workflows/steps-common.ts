// Small pieces the billing workflows share: retry policies and reading earlier steps' outputs.
import type { RetryPolicy, StepContext } from '../../engine/index.ts';

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

/** The output of an earlier step of the same run (the engine keeps them by step name). */
export function outputOf<T>(ctx: StepContext<unknown>, step: string): T {
  const output = ctx.outputs[step];
  if (output === undefined || output === null) throw new Error(`step ${step} has no output in run ${ctx.runId}`);
  return output as T;
}

/** ISO text for a date, as step outputs and template data carry them. */
export function iso(date: Date | string | null | undefined): string | null {
  if (date === null || date === undefined) return null;
  return (date instanceof Date ? date : new Date(date)).toISOString();
}
