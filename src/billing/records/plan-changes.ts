// Plan changes: a subscription moves to another plan of the same currency and interval, at once
// (its proration waits for the next renewal invoice) or at its period's end (the renewal applies it).
import type { Queryable } from '../../db/types.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import type { At } from './customers.ts';
import { toAmount } from './money.ts';
import { requirePlan } from './plans.ts';
import type { Interval, Plan } from './plans.ts';
import { prorate } from './proration.ts';
import { findSubscription } from './subscriptions.ts';
import type { Subscription } from './subscriptions.ts';

export const PLAN_CHANGE_TIMINGS = ['now', 'period_end'] as const;
export type PlanChangeTiming = (typeof PLAN_CHANGE_TIMINGS)[number];

export interface PlanChangeInput {
  plan_change_id: string;
  subscription_id: string;
  plan_code: string;
  when: PlanChangeTiming;
  reason?: string;
}

export interface PlanChange {
  id: string;
  subscription_id: string;
  customer_id: string;
  from_plan_id: string;
  to_plan_id: string;
  from_amount: number;
  to_amount: number;
  currency: string;
  interval: Interval;
  timing: PlanChangeTiming;
  reason: string | null;
  requested_at: Date;
  effective_at: Date;
  applied_at: Date | null;
  period_start: Date;
  period_end: Date;
  /** The unused share of the old plan, credited on the next invoice (`now` only). */
  credit_amount: number;
  /** The rest of the period on the new plan, charged on the next invoice (`now` only). */
  charge_amount: number;
  /** The renewal invoice that carried the proration. */
  invoice_id: string | null;
  counted_at: Date | null;
  created_at: Date;
}

const COLUMNS = `id, subscription_id, customer_id, from_plan_id, to_plan_id, from_amount, to_amount, currency,
  interval, timing, reason, requested_at, effective_at, applied_at, period_start, period_end, credit_amount,
  charge_amount, invoice_id, counted_at, created_at`;

function toPlanChange(row: PlanChange): PlanChange {
  return {
    ...row,
    from_amount: toAmount(row.from_amount),
    to_amount: toAmount(row.to_amount),
    credit_amount: toAmount(row.credit_amount),
    charge_amount: toAmount(row.charge_amount),
  };
}

/** Proration still waiting for a renewal invoice: the sum of its charges minus its credits. */
async function uninvoicedProration(q: Queryable, subscriptionId: string): Promise<number> {
  const { rows } = await q.query<{ net: unknown }>(
    `SELECT coalesce(sum(charge_amount - credit_amount), 0)::bigint AS net FROM subscription_plan_changes
     WHERE subscription_id = $1 AND invoice_id IS NULL AND timing = 'now'`,
    [subscriptionId],
  );
  return toAmount(rows[0]?.net ?? 0);
}

export interface CheckedPlanChange {
  subscription: Subscription;
  plan: Plan;
}

/**
 * What makes a change acceptable, checked before a run starts and again, under the
 * subscription's lock, by the run's first step: a live subscription, a plan on sale other than
 * its own with the same currency and interval, no change already waiting for the period's end,
 * and (now) a next invoice that does not end up owing the customer money.
 */
export async function checkPlanChange(q: Queryable, input: PlanChangeInput, at: Date): Promise<CheckedPlanChange> {
  const subscription = await findSubscription(q, input.subscription_id);
  if (!subscription) {
    throw new InvalidInputError([{ field: 'subscription_id', message: `no subscription ${input.subscription_id}` }]);
  }
  if (subscription.status === 'cancelled' || subscription.cancel_at !== null) {
    // A cancellation already counted the subscription's amount out of the statistics.
    throw new ConflictError(`subscription ${subscription.id} is ${subscription.status}: its plan cannot change`, {
      field: 'subscription_id',
      status: subscription.status,
    });
  }
  const plan = await requirePlan(q, input.plan_code);
  if (plan.id === subscription.plan_id) {
    throw new InvalidInputError([{ field: 'plan_code', message: `the subscription is already on plan ${plan.code}` }]);
  }
  if (plan.currency !== subscription.currency) {
    const message = `plan ${plan.code} is in ${plan.currency}; the subscription is in ${subscription.currency}`;
    throw new InvalidInputError([{ field: 'plan_code', message }]);
  }
  if (plan.interval !== subscription.interval) {
    const message = `plan ${plan.code} is billed per ${plan.interval}; the subscription per ${subscription.interval}`;
    throw new InvalidInputError([{ field: 'plan_code', message }]);
  }
  const pending = await pendingPlanChange(q, subscription.id);
  if (pending) {
    throw new ConflictError(`subscription ${subscription.id} already has a plan change waiting for its period's end`, {
      field: 'plan_code',
      plan_change_id: pending.id,
    });
  }
  if (input.when === 'now') {
    const { credit, charge } = nowProration(subscription, subscription.amount, plan.amount, at);
    const next = plan.amount + (await uninvoicedProration(q, subscription.id)) + charge - credit;
    if (next < 0) {
      const message = `the credit for the old plan would exceed the next invoice: change at period_end instead`;
      throw new InvalidInputError([{ field: 'when', message }]);
    }
  }
  return { subscription, plan };
}

/** A change now: nothing to prorate during a trial (nothing was paid for it). */
function nowProration(
  subscription: Subscription,
  fromAmount: number,
  toAmountValue: number,
  at: Date,
): { credit: number; charge: number } {
  if (subscription.trial_end && at < subscription.trial_end) return { credit: 0, charge: 0 };
  const { current_period_start: start, current_period_end: end } = subscription;
  return { credit: prorate(fromAmount, start, end, at), charge: prorate(toAmountValue, start, end, at) };
}

/**
 * Records a plan change. `now` switches the subscription's plan and price at once and keeps the
 * proration for the next renewal invoice; `period_end` records it for the renewal to apply.
 * Locks the subscription, so a change and a renewal or a cancellation never interleave.
 */
export async function changeSubscriptionPlan(
  q: Queryable,
  input: PlanChangeInput,
  options: At = {},
): Promise<PlanChange> {
  await q.query('SELECT 1 FROM subscriptions WHERE id = $1 FOR NO KEY UPDATE', [input.subscription_id]);
  const at = options.at ?? new Date();
  const { subscription, plan } = await checkPlanChange(q, input, at);
  const now = input.when === 'now';
  const { credit, charge } = now
    ? nowProration(subscription, subscription.amount, plan.amount, at)
    : { credit: 0, charge: 0 };
  const { rows } = await q.query<PlanChange>(
    `INSERT INTO subscription_plan_changes (id, subscription_id, customer_id, from_plan_id, to_plan_id, from_amount,
       to_amount, currency, interval, timing, reason, requested_at, effective_at, applied_at, period_start, period_end,
       credit_amount, charge_amount, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $12)
     RETURNING ${COLUMNS}`,
    [
      input.plan_change_id,
      subscription.id,
      subscription.customer_id,
      subscription.plan_id,
      plan.id,
      subscription.amount,
      plan.amount,
      subscription.currency,
      subscription.interval,
      input.when,
      input.reason ?? null,
      at,
      now ? at : subscription.current_period_end,
      now ? at : null,
      subscription.current_period_start,
      subscription.current_period_end,
      credit,
      charge,
    ],
  );
  const change = toPlanChange(rows[0] as PlanChange);
  if (now) await switchPlan(q, change, at);
  return change;
}

/** The subscription takes the change's plan and price; it keeps the amount its statistics started with. */
async function switchPlan(q: Queryable, change: PlanChange, at: Date): Promise<void> {
  await q.query(
    `UPDATE subscriptions SET initial_amount = coalesce(initial_amount, amount), plan_id = $2, amount = $3,
       updated_at = $4
     WHERE id = $1`,
    [change.subscription_id, change.to_plan_id, change.to_amount, at],
  );
}

export async function findPlanChange(q: Queryable, id: string): Promise<PlanChange | undefined> {
  const { rows } = await q.query<PlanChange>(`SELECT ${COLUMNS} FROM subscription_plan_changes WHERE id = $1`, [id]);
  return rows[0] && toPlanChange(rows[0]);
}

export async function getPlanChange(q: Queryable, id: string): Promise<PlanChange> {
  const change = await findPlanChange(q, id);
  if (!change) throw new NotFoundError(`plan change ${id} not found`);
  return change;
}

/** The change waiting for the subscription's period to end, if any. */
export async function pendingPlanChange(q: Queryable, subscriptionId: string): Promise<PlanChange | undefined> {
  const { rows } = await q.query<PlanChange>(
    `SELECT ${COLUMNS} FROM subscription_plan_changes WHERE subscription_id = $1 AND applied_at IS NULL`,
    [subscriptionId],
  );
  return rows[0] && toPlanChange(rows[0]);
}

/** A subscription's plan changes, newest first. */
export async function listPlanChanges(q: Queryable, subscriptionId: string): Promise<PlanChange[]> {
  const { rows } = await q.query<PlanChange>(
    `SELECT ${COLUMNS} FROM subscription_plan_changes WHERE subscription_id = $1 ORDER BY created_at DESC, id DESC`,
    [subscriptionId],
  );
  return rows.map(toPlanChange);
}

/**
 * For the renewal of the period starting at `periodStart`, inside its transaction (the
 * subscription locked): applies the change scheduled for that moment, if any, and takes the
 * proration waiting for an invoice. Returns the applied change (the caller counts its statistics)
 * and the proration, which the caller marks invoiced with `markProrationInvoiced`.
 */
export async function takeRenewalPlanChanges(
  q: Queryable,
  subscriptionId: string,
  periodStart: Date,
): Promise<{ applied: PlanChange | undefined; proration: PlanChange[] }> {
  const { rows } = await q.query<PlanChange>(
    `UPDATE subscription_plan_changes SET applied_at = effective_at
     WHERE subscription_id = $1 AND applied_at IS NULL AND effective_at <= $2
     RETURNING ${COLUMNS}`,
    [subscriptionId, periodStart],
  );
  const applied = rows[0] && toPlanChange(rows[0]);
  if (applied) await switchPlan(q, applied, applied.effective_at);
  const proration = await q.query<PlanChange>(
    `SELECT ${COLUMNS} FROM subscription_plan_changes
     WHERE subscription_id = $1 AND invoice_id IS NULL AND (credit_amount > 0 OR charge_amount > 0)
     ORDER BY requested_at, id`,
    [subscriptionId],
  );
  return { applied, proration: proration.rows.map(toPlanChange) };
}

export async function markProrationInvoiced(q: Queryable, changeIds: readonly string[], invoiceId: string) {
  await q.query(`UPDATE subscription_plan_changes SET invoice_id = $2 WHERE id = ANY ($1::text[])`, [
    changeIds,
    invoiceId,
  ]);
}
