import type { Queryable } from '../../db/types.ts';
import { NotFoundError } from '../../errors.ts';
import type { CustomerStatus } from '../records/customers.ts';
import { payingAt, trialingAt } from './recurring.ts';

/** What a customer's subscriptions look like at one instant. */
export interface SubscriptionPresence {
  /** Subscriptions paying now. */
  paying: number;
  /** Subscriptions in their trial now. */
  trialing: number;
  /** Subscriptions not started yet (a start date in the future), not cancelled. */
  upcoming: number;
  /** Subscriptions ever, cancelled ones included. */
  total: number;
}

/**
 * The customer's lifecycle status after a change to their subscriptions:
 * - `disabled` stays (set by the overdue-invoice workflow, lifted only by an explicit change);
 * - paying or trialing after having churned → `reactivated` (and stays so while live);
 * - paying → `active`; only trialing, never having paid → `trial_active`;
 * - nothing live any more → `churned`; never subscribed → `new`;
 * - only subscriptions that have not started yet → unchanged until one does.
 */
export function nextCustomerStatus(current: CustomerStatus, presence: SubscriptionPresence): CustomerStatus {
  if (current === 'disabled') return 'disabled';
  const live = presence.paying + presence.trialing > 0;
  if (!live && presence.upcoming > 0) return current;
  if (!live) return presence.total > 0 ? 'churned' : 'new';
  if (current === 'churned' || current === 'reactivated') return 'reactivated';
  if (presence.paying > 0) return 'active';
  // Trialing only: a customer who already pays keeps `active` while trying another plan.
  return current === 'active' ? 'active' : 'trial_active';
}

export interface StatusChange {
  customer_id: string;
  before: CustomerStatus;
  after: CustomerStatus;
  changed: boolean;
}

/**
 * Recomputes a customer's status from their subscriptions at `now` (pass `ctx.now()` in a step)
 * and stores it when it changed. Call it in the same db step that changed a subscription, so the
 * status moves exactly once with it. The customer row is locked so two concurrent changes for one
 * customer are applied one after the other.
 */
export async function refreshCustomerStatus(q: Queryable, customerId: string, now: Date): Promise<StatusChange> {
  const locked = await q.query<{ status: CustomerStatus }>(
    'SELECT status FROM customers WHERE id = $1 FOR NO KEY UPDATE',
    [customerId],
    { name: 'billflow_lock_customer_status' },
  );
  const before = locked.rows[0]?.status;
  if (before === undefined) throw new NotFoundError(`customer ${customerId} not found`);
  const { rows } = await q.query<SubscriptionPresence>(
    `SELECT (count(*) FILTER (WHERE ${payingAt('$2')}))::int AS paying,
       (count(*) FILTER (WHERE ${trialingAt('$2')}))::int AS trialing,
       (count(*) FILTER (WHERE s.status <> 'cancelled' AND s.started_at > $2
         AND (s.cancel_at IS NULL OR s.cancel_at > $2)))::int AS upcoming,
       count(*)::int AS total
     FROM subscriptions s WHERE s.customer_id = $1`,
    [customerId, now],
    { name: 'billflow_customer_subscriptions' },
  );
  const after = nextCustomerStatus(before, rows[0] ?? { paying: 0, trialing: 0, upcoming: 0, total: 0 });
  if (after !== before) {
    await q.query('UPDATE customers SET status = $2, updated_at = $3 WHERE id = $1', [customerId, after, now]);
  }
  return { customer_id: customerId, before, after, changed: after !== before };
}
