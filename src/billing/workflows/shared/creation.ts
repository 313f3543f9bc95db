// A subscription's creation run that may still be taking it to the provider: a later change at
// the provider (a cancellation, a new plan) waits for it rather than concluding it is not there.
import type { Queryable } from '../../../db/types.ts';
import { getRun, listRuns } from '../../../engine/index.ts';

/**
 * A subscription_creation run of this subscription that has not got past its provider step (it
 * may be about to create the subscription there), if any.
 */
export async function creationOnTheWay(q: Queryable, subscriptionId: string): Promise<string | undefined> {
  const runs = await listRuns(q, { type: 'subscription_creation', subjectRef: subscriptionId }, { limit: 20 });
  for (const summary of runs.items) {
    if (summary.status !== 'pending' && summary.status !== 'in_progress') continue;
    const sync = (await getRun(q, summary.id)).steps.find((s) => s.name === 'sync_payment_provider');
    if (sync && sync.status !== 'completed' && sync.status !== 'skipped') return summary.id;
  }
  return undefined;
}
