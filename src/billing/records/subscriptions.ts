import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import { requireCustomer, useCustomerCurrency } from './customers.ts';
import type { At } from './customers.ts';
import { toAmount } from './money.ts';
import { requirePlan } from './plans.ts';
import type { Interval } from './plans.ts';

export const SUBSCRIPTION_STATUSES = ['trialing', 'active', 'cancel_scheduled', 'cancelled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/**
 * How renewal invoices are collected: charged to the customer's payment method on file when they
 * are created, or sent to be paid by their due date.
 */
export const COLLECTION_METHODS = ['charge_automatically', 'send_invoice'] as const;
export type CollectionMethod = (typeof COLLECTION_METHODS)[number];

/**
 * A subscription keeps a copy of its plan's price. `status` is what was last written; whether it
 * pays at a given instant follows from its timestamps (see stats/recurring.ts), so MRR stays right
 * even before `settleSubscriptions` flips an ended trial or a due cancellation.
 */
export interface Subscription {
  id: string;
  customer_id: string;
  plan_id: string;
  amount: number;
  currency: string;
  interval: Interval;
  status: SubscriptionStatus;
  started_at: Date;
  trial_end: Date | null;
  current_period_start: Date;
  current_period_end: Date;
  cancel_requested_at: Date | null;
  cancel_at: Date | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  provider_subscription_id: string | null;
  collection_method: CollectionMethod;
  trial_reminded_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface SubscriptionInput {
  customer_id: string;
  plan_code: string;
  /** Overrides the plan's trial length; 0 starts paying at once. */
  trial_days?: number;
  /** ISO timestamp; defaults to the creation time (a provider's subscription may start earlier). */
  started_at?: string;
  provider_subscription_id?: string;
  /** Default charge_automatically. */
  collection_method?: CollectionMethod;
}

export const CANCEL_MODES = ['at_period_end', 'immediately', 'on_date'] as const;
export type CancelMode = (typeof CANCEL_MODES)[number];
export const REFUND_MODES = ['none', 'prorated', 'full'] as const;
export type RefundMode = (typeof REFUND_MODES)[number];

const COLUMNS = `id, customer_id, plan_id, amount, currency, interval, status, started_at, trial_end,
  current_period_start, current_period_end, cancel_requested_at, cancel_at, cancelled_at, cancel_reason,
  provider_subscription_id, collection_method, trial_reminded_at, created_at, updated_at`;

function toSubscription(row: Subscription): Subscription {
  return { ...row, amount: toAmount(row.amount) };
}

/**
 * Creates a subscription to a plan, trialing when the plan (or `trial_days`) gives a trial. The
 * first period ends at the trial's end or one interval after the start, in UTC calendar terms
 * (Jan 31 + 1 month = Feb 28). With a provider id the insert is idempotent on it.
 */
export async function createSubscription(
  q: Queryable,
  input: SubscriptionInput,
  options: At = {},
): Promise<Subscription> {
  const customer = await requireCustomer(q, input.customer_id);
  if (customer.status === 'disabled') {
    throw new InvalidInputError([{ field: 'customer_id', message: `customer ${customer.id} is disabled` }]);
  }
  const plan = await requirePlan(q, input.plan_code);
  await useCustomerCurrency(q, customer, plan.currency, 'plan_code');
  const trialDays = input.trial_days ?? plan.trial_days;
  const { rows } = await q.query<Subscription>(
    `WITH t AS (
       SELECT coalesce($9::timestamptz, now()) AS created, coalesce($7::timestamptz, $9::timestamptz, now()) AS started
     ), p AS (
       SELECT created, started,
         CASE WHEN $8::int > 0 THEN ((started AT TIME ZONE 'UTC') + make_interval(days => $8::int)) AT TIME ZONE 'UTC' END
           AS trial_end,
         ((started AT TIME ZONE 'UTC') + ('1 ' || $6)::interval) AT TIME ZONE 'UTC' AS first_period_end
       FROM t
     )
     INSERT INTO subscriptions (id, customer_id, plan_id, amount, currency, interval, status, started_at, trial_end,
       current_period_start, current_period_end, provider_subscription_id, collection_method, created_at, updated_at)
     SELECT $1, $2, $3, $4, $5, $6, CASE WHEN trial_end IS NULL THEN 'active' ELSE 'trialing' END, started, trial_end,
       started, coalesce(trial_end, first_period_end), $10, $11, created, created
     FROM p
     ON CONFLICT (provider_subscription_id) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      options.id ?? newId('sub'),
      customer.id,
      plan.id,
      plan.amount,
      plan.currency,
      plan.interval,
      input.started_at ?? null,
      trialDays,
      options.at ?? null,
      input.provider_subscription_id ?? null,
      input.collection_method ?? 'charge_automatically',
    ],
  );
  if (rows[0]) return toSubscription(rows[0]);
  const existing = await findSubscriptionByProviderId(q, input.provider_subscription_id as string);
  if (!existing || existing.customer_id !== customer.id || existing.plan_id !== plan.id) {
    throw new ConflictError(`provider subscription ${input.provider_subscription_id} is another subscription`, {
      field: 'provider_subscription_id',
      subscription_id: existing?.id,
    });
  }
  return existing;
}

export async function findSubscription(q: Queryable, id: string): Promise<Subscription | undefined> {
  const { rows } = await q.query<Subscription>(`SELECT ${COLUMNS} FROM subscriptions WHERE id = $1`, [id]);
  return rows[0] && toSubscription(rows[0]);
}

export async function getSubscription(q: Queryable, id: string): Promise<Subscription> {
  const subscription = await findSubscription(q, id);
  if (!subscription) throw new NotFoundError(`subscription ${id} not found`);
  return subscription;
}

export async function findSubscriptionByProviderId(q: Queryable, ref: string): Promise<Subscription | undefined> {
  const { rows } = await q.query<Subscription>(
    `SELECT ${COLUMNS} FROM subscriptions WHERE provider_subscription_id = $1`,
    [ref],
  );
  return rows[0] && toSubscription(rows[0]);
}

/** Newest first; `live` keeps those not cancelled yet (what dunning exhaustion must cancel). */
export async function listCustomerSubscriptions(
  q: Queryable,
  customerId: string,
  options: { live?: boolean; before?: string; limit?: number } = {},
): Promise<Subscription[]> {
  const { rows } = await q.query<Subscription>(
    `SELECT ${COLUMNS} FROM subscriptions
     WHERE customer_id = $1 AND ($2::text IS NULL OR id < $2) AND (NOT $3 OR status <> 'cancelled')
     ORDER BY id DESC LIMIT $4`,
    [customerId, options.before ?? null, options.live ?? false, Math.min(options.limit ?? 100, 500)],
  );
  return rows.map(toSubscription);
}

export async function setProviderSubscriptionId(q: Queryable, id: string, ref: string): Promise<Subscription> {
  const { rows } = await q.query<Subscription>(
    `UPDATE subscriptions SET provider_subscription_id = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, ref],
  );
  if (!rows[0]) throw new NotFoundError(`subscription ${id} not found`);
  return toSubscription(rows[0]);
}

/**
 * Cancels at the period's end, at once, or on a date (a date already past takes effect at that
 * date). A subscription is cancelled once: its cancellation date is what the statistics counted,
 * so a second request is a conflict rather than a silent change of history.
 */
export async function cancelSubscription(
  q: Queryable,
  id: string,
  request: { mode: CancelMode; cancel_at?: string; reason?: string },
  options: At = {},
): Promise<Subscription> {
  const { rows } = await q.query<Subscription>(`SELECT ${COLUMNS} FROM subscriptions WHERE id = $1 FOR NO KEY UPDATE`, [
    id,
  ]);
  const current = rows[0] && toSubscription(rows[0]);
  if (!current) throw new NotFoundError(`subscription ${id} not found`);
  if (current.cancel_at !== null) {
    throw new ConflictError(`subscription ${id} is already ${current.status}`, {
      status: current.status,
      cancel_at: current.cancel_at.toISOString(),
    });
  }
  if (request.mode === 'on_date' && !request.cancel_at) {
    throw new InvalidInputError([{ field: 'cancel_at', message: 'is required when mode is on_date' }]);
  }
  if (request.cancel_at && new Date(request.cancel_at) < current.started_at) {
    throw new InvalidInputError([{ field: 'cancel_at', message: 'must not be before the subscription started' }]);
  }
  const updated = await q.query<Subscription>(
    `WITH c AS (
       SELECT id AS sub_id, coalesce($2::timestamptz, now()) AS requested,
         CASE $3 WHEN 'immediately' THEN coalesce($2::timestamptz, now())
                 WHEN 'on_date' THEN $4::timestamptz
                 ELSE current_period_end END AS effective
       FROM subscriptions WHERE id = $1
     )
     UPDATE subscriptions SET
       cancel_requested_at = requested,
       cancel_at = effective,
       status = CASE WHEN effective <= requested THEN 'cancelled' ELSE 'cancel_scheduled' END,
       cancelled_at = CASE WHEN effective <= requested THEN effective END,
       cancel_reason = $5,
       updated_at = requested
     FROM c WHERE id = sub_id
     RETURNING ${COLUMNS}`,
    [id, options.at ?? null, request.mode, request.cancel_at ?? null, request.reason ?? null],
  );
  return toSubscription(updated.rows[0] as Subscription);
}

/**
 * Writes down what time has already decided: trials that ended become active (their first paid
 * period starts at the trial's end) and scheduled cancellations that are due become cancelled.
 * Returns the subscriptions changed, so the caller can refresh their customers' status. With
 * `trials: false` ended trials are left alone: the billing calendar converts them itself, with
 * the first invoice, in the transaction that advances the period.
 */
export async function settleSubscriptions(
  q: Queryable,
  now: Date,
  options: { trials?: boolean } = {},
): Promise<Subscription[]> {
  const { rows } = await q.query<Subscription>(
    `UPDATE subscriptions SET
       status = CASE WHEN cancel_at <= $1 THEN 'cancelled' ELSE 'active' END,
       cancelled_at = CASE WHEN cancel_at <= $1 THEN cancel_at END,
       current_period_start = CASE WHEN status = 'trialing' THEN trial_end ELSE current_period_start END,
       current_period_end = CASE WHEN status = 'trialing'
         THEN ((trial_end AT TIME ZONE 'UTC') + ('1 ' || interval)::interval) AT TIME ZONE 'UTC'
         ELSE current_period_end END,
       updated_at = now()
     WHERE (status = 'cancel_scheduled' AND cancel_at <= $1) OR ($2 AND status = 'trialing' AND trial_end <= $1)
     RETURNING ${COLUMNS}`,
    [now, options.trials ?? true],
  );
  return rows.map(toSubscription);
}

/** What Stripe Billing says of a subscription it renews (customer.subscription.updated). */
export interface ProviderSubscriptionFacts {
  periodStart: Date | null;
  periodEnd: Date | null;
  /** Stripe's status is `active` (a trial it ended early or on time). */
  active: boolean;
  /** When Stripe will cancel it (at period end, or on a date); null when it will not. */
  cancelAt: Date | null;
  /** When Stripe said so (the event's `created`). */
  at: Date;
}

/**
 * Copies Stripe Billing's view onto a subscription whose calendar Stripe owns: the period only
 * ever moves forward (an older event never takes it back), an ended trial becomes active, and a
 * cancellation Stripe schedules (or withdraws, when it was asked after ours) is written down.
 * A cancelled subscription, or a cancellation already counted by the statistics, is left alone.
 * Returns what changed, in words (empty: nothing did).
 */
export async function syncProviderSubscription(
  q: Queryable,
  id: string,
  facts: ProviderSubscriptionFacts,
): Promise<{ before: Subscription; subscription: Subscription; changed: string[]; periodMoved: boolean }> {
  const { rows } = await q.query<Subscription & { cancel_counted: boolean }>(
    `SELECT ${COLUMNS}, cancel_counted_at IS NOT NULL AS cancel_counted FROM subscriptions WHERE id = $1 FOR NO KEY UPDATE`,
    [id],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`subscription ${id} not found`);
  const { cancel_counted: counted, ...rest } = row;
  const current = toSubscription(rest);
  if (current.status === 'cancelled')
    return { before: current, subscription: current, changed: [], periodMoved: false };
  const next = { ...current };
  const changed: string[] = [];
  if (facts.periodStart && facts.periodEnd && facts.periodEnd > current.current_period_end) {
    next.current_period_start = facts.periodStart;
    next.current_period_end = facts.periodEnd;
    changed.push(`period ${facts.periodStart.toISOString()} – ${facts.periodEnd.toISOString()}`);
  }
  if (current.status === 'trialing' && facts.active) {
    next.status = 'active';
    changed.push('trial ended');
  }
  if (facts.cancelAt && current.cancel_at === null) {
    Object.assign(next, {
      status: 'cancel_scheduled',
      cancel_requested_at: facts.at,
      cancel_at: facts.cancelAt,
      cancel_reason: 'cancelled at Stripe',
    });
    changed.push(`cancellation scheduled for ${facts.cancelAt.toISOString()}`);
  } else if (
    !facts.cancelAt &&
    current.status === 'cancel_scheduled' &&
    !counted &&
    current.cancel_requested_at !== null &&
    current.cancel_requested_at < facts.at
  ) {
    Object.assign(next, {
      status: current.trial_end && current.trial_end > facts.at && !facts.active ? 'trialing' : 'active',
      cancel_requested_at: null,
      cancel_at: null,
      cancel_reason: null,
    });
    changed.push('scheduled cancellation withdrawn');
  }
  const periodMoved = next.current_period_end !== current.current_period_end;
  if (changed.length === 0) return { before: current, subscription: current, changed, periodMoved };
  const updated = await q.query<Subscription>(
    `UPDATE subscriptions SET current_period_start = $2, current_period_end = $3, status = $4,
       cancel_requested_at = $5, cancel_at = $6, cancel_reason = $7, updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      next.current_period_start,
      next.current_period_end,
      next.status,
      next.cancel_requested_at,
      next.cancel_at,
      next.cancel_reason,
    ],
  );
  return { before: current, subscription: toSubscription(updated.rows[0] as Subscription), changed, periodMoved };
}
