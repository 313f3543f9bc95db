import type { RetryPolicy } from './define.ts';

/**
 * Delay before attempt `failedAttempt + 1`: exponential growth from `initialDelayMs`, capped,
 * with the top `jitter` share randomized so a burst of failures does not retry in lockstep.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * policy.factor ** Math.max(0, failedAttempt - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped * (1 - policy.jitter * random()));
}
