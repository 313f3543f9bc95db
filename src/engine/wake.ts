import type { Queryable } from '../db/types.ts';
import { InvalidInputError } from '../errors.ts';
import { wakeRuns } from './sql/wakeRuns.ts';
import type { WokenRun } from './sql/wakeRuns.ts';

export type { WokenRun } from './sql/wakeRuns.ts';

export interface WakeRequest {
  /** The record whose runs to wake (the `subjectRef` they were started with). */
  subjectRef: string;
  /** Only runs of this type. */
  type?: string;
  /** The new due time; defaults to the database clock. Pass a step's `ctx.now()` in a step. */
  now?: Date;
  /** Who or what woke them, for the run's history; defaults to "system". */
  actor?: string;
  reason?: string;
}

/**
 * Runs of a subject that wait on a durable timer become due now: the event they wait for may
 * have happened (an invoice was paid), so their waiting step runs again and decides. Pass the
 * transaction that made the change, so the wake-up commits with it and the woken step sees it.
 * Returns the runs woken.
 */
export async function wakeWaitingRuns(q: Queryable, request: WakeRequest): Promise<WokenRun[]> {
  if (!request.subjectRef?.trim()) {
    throw new InvalidInputError([{ field: 'subjectRef', message: 'is required' }]);
  }
  return wakeRuns(q, {
    subjectRef: request.subjectRef,
    type: request.type ?? null,
    now: request.now ?? null,
    actor: request.actor ?? 'system',
    reason: request.reason ?? null,
  });
}
