// customer.subscription.updated with Stripe Billing owning the calendar: Stripe renewed (or is
// cancelling) a subscription, and ours follows. It starts no run: the invoice events do that.
import type { Db, Queryable } from '../../db/types.ts';
import { findSubscription, findSubscriptionByProviderId, syncProviderSubscription } from '../records/index.ts';
import { recordStripePeriod } from '../calendar/periods.ts';
import type { EventOutcome } from './ledger.ts';
import type { SubscriptionUpdateIntent } from './intents.ts';

/** The event being applied: its id and Stripe's `created` (unix seconds). */
export interface UpdateEvent {
  id: string;
  created: number;
}

export async function applySubscriptionUpdate(
  db: Db,
  event: UpdateEvent,
  intent: SubscriptionUpdateIntent,
): Promise<{ outcome: EventOutcome; provides: string[] }> {
  const subscription =
    (await findSubscriptionByProviderId(db, intent.subscriptionId)) ??
    (intent.billflowSubscriptionId ? await findSubscription(db, intent.billflowSubscriptionId) : undefined);
  if (!subscription) {
    return {
      outcome: {
        outcome: 'waiting',
        waiting_for: intent.subscriptionId,
        detail: `subscription ${intent.subscriptionId} is not known yet; waiting for its creation`,
      },
      provides: [],
    };
  }
  const ids = { record_id: subscription.id, customer_id: subscription.customer_id };
  // Events arrive out of order (retries, the catch-up): one older than an update already applied
  // says nothing new, and applying it could undo the newer one.
  const newer = await newerUpdate(db, event, intent.subscriptionId);
  if (newer) {
    return {
      outcome: { outcome: 'ignored', detail: `a newer update (${newer}) was already applied`, ...ids },
      provides: [],
    };
  }
  const periodEnd = intent.periodEnd ? new Date(intent.periodEnd) : null;
  const cancelAt = intent.cancelAtPeriodEnd ? periodEnd : intent.cancelAt ? new Date(intent.cancelAt) : null;
  const at = new Date(event.created * 1000);
  // The subscription and its period row together: a redelivery racing this one writes neither twice.
  const { changed } = await db.transaction(async (tx) => {
    const synced = await syncProviderSubscription(tx, subscription.id, {
      periodStart: intent.periodStart ? new Date(intent.periodStart) : null,
      periodEnd,
      active: intent.status === 'active',
      cancelAt,
      at,
    });
    const now = synced.subscription;
    if (synced.periodMoved) {
      const kind = synced.before.status === 'trialing' ? 'trial_conversion' : 'renewal';
      await recordStripePeriod(tx, now, { start: now.current_period_start, end: now.current_period_end, kind }, at);
    }
    return synced;
  });
  // Billflow has no past_due or unpaid: its invoice runs wait for the payment Stripe retries;
  // `canceled` arrives as customer.subscription.deleted, which cancels ours.
  const note =
    intent.status && !['active', 'trialing'].includes(intent.status) ? `Stripe status ${intent.status} not copied` : '';
  if (changed.length === 0) {
    const detail = [`subscription ${subscription.id} already up to date`, note].filter((s) => s).join('; ');
    return { outcome: { outcome: 'ignored', detail, ...ids }, provides: [] };
  }
  const detail = [`subscription ${subscription.id}: ${changed.join(', ')}`, note].filter((s) => s).join('; ');
  return { outcome: { outcome: 'recorded', detail, ...ids }, provides: [] };
}

async function newerUpdate(q: Queryable, event: UpdateEvent, subscriptionId: string): Promise<string | undefined> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM stripe_events
     WHERE object_id = $1 AND type = 'customer.subscription.updated' AND outcome IN ('recorded', 'ignored')
       AND created > to_timestamp($2) AND id <> $3
     ORDER BY created DESC LIMIT 1`,
    [subscriptionId, event.created, event.id],
  );
  return rows[0]?.id;
}
