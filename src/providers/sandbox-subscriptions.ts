import { newId } from '../ids.ts';
import { PermanentError } from '../errors.ts';
import type { SandboxDeps } from './sandbox-payments.ts';
import type {
  CancelSubscriptionInput,
  ChangeSubscriptionPlanInput,
  CreateSubscriptionInput,
  FindSubscriptionQuery,
  ProviderSubscription,
} from './types.ts';
import { checkAmount, checkCurrency, checkIdempotencyKey, checkMetadata } from './validate.ts';

interface SubscriptionRow {
  id: string;
  subscription_id: string;
  customer: string;
  plan_code: string;
  current_period_end: Date;
  cancel_at_period_end: boolean;
  cancel_at: Date | null;
  canceled_at: Date | null;
}

const COLUMNS =
  'id, subscription_id, customer, plan_code, current_period_end, cancel_at_period_end, cancel_at, canceled_at';
const INTERVALS = ['week', 'month', 'year'];

/** The sandbox has no clock of its own: a scheduled cancellation counts as done once its time has passed. */
function toSubscription(row: SubscriptionRow, now: Date): ProviderSubscription {
  const endedAt = row.canceled_at ?? (row.cancel_at && row.cancel_at <= now ? row.cancel_at : null);
  return {
    provider_reference: row.id,
    subscription_id: row.subscription_id,
    status: endedAt ? 'canceled' : 'active',
    current_period_end: row.current_period_end.toISOString(),
    cancel_at_period_end: row.cancel_at_period_end,
    cancel_at: row.cancel_at?.toISOString() ?? null,
    canceled_at: endedAt?.toISOString() ?? null,
  };
}

async function bySubscriptionId(deps: SandboxDeps, subscriptionId: string): Promise<SubscriptionRow | undefined> {
  const found = await deps.db.query<SubscriptionRow>(
    `SELECT ${COLUMNS} FROM provider_sandbox_subscriptions WHERE subscription_id = $1`,
    [subscriptionId],
  );
  return found.rows[0];
}

export async function sandboxFindSubscription(
  deps: SandboxDeps,
  query: FindSubscriptionQuery,
): Promise<ProviderSubscription | null> {
  const row = query.providerReference
    ? (
        await deps.db.query<SubscriptionRow>(`SELECT ${COLUMNS} FROM provider_sandbox_subscriptions WHERE id = $1`, [
          query.providerReference,
        ])
      ).rows[0]
    : await bySubscriptionId(deps, query.subscriptionId);
  return row ? toSubscription(row, deps.now()) : null;
}

function sameSubscription(row: SubscriptionRow, input: CreateSubscriptionInput, now: Date): ProviderSubscription {
  if (row.customer !== input.customer || row.plan_code !== input.plan.code) {
    throw new PermanentError(
      `subscription ${input.subscriptionId} already exists in the sandbox for another customer or plan (${row.id})`,
    );
  }
  return toSubscription(row, now);
}

export async function sandboxCreateSubscription(
  deps: SandboxDeps,
  input: CreateSubscriptionInput,
): Promise<ProviderSubscription> {
  checkIdempotencyKey(input.idempotencyKey);
  checkAmount(input.plan.amount, 'plan amount', true);
  const currency = checkCurrency(input.plan.currency);
  checkMetadata(input.metadata);
  if (!INTERVALS.includes(input.plan.interval)) {
    throw new PermanentError(`plan interval must be one of ${INTERVALS.join(', ')} (got "${input.plan.interval}")`);
  }
  const now = deps.now();
  const existing = await bySubscriptionId(deps, input.subscriptionId);
  if (existing) return sameSubscription(existing, input, now);
  const customer = await deps.db.query('SELECT 1 FROM provider_sandbox_customers WHERE id = $1', [input.customer]);
  if (customer.rowCount === 0) throw new PermanentError(`no such customer: ${input.customer}`);
  // PostgreSQL's interval arithmetic keeps month ends sensible (Jan 31 + 1 month = Feb 28/29).
  const inserted = await deps.db.query<SubscriptionRow>(
    `INSERT INTO provider_sandbox_subscriptions
       (id, subscription_id, customer, plan_code, amount, currency, interval, payment_method, metadata,
        current_period_start, current_period_end, idempotency_key, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $10::timestamptz + ('1 ' || $7)::interval, $11, $10)
     ON CONFLICT (subscription_id) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      newId('sbx_sub'),
      input.subscriptionId,
      input.customer,
      input.plan.code,
      input.plan.amount,
      currency,
      input.plan.interval,
      input.paymentMethod ?? null,
      JSON.stringify(input.metadata ?? {}),
      now,
      input.idempotencyKey,
    ],
  );
  const row = inserted.rows[0] ?? (await bySubscriptionId(deps, input.subscriptionId));
  if (!row) throw new Error(`sandbox subscription ${input.subscriptionId} vanished after its insert`);
  return sameSubscription(row, input, now);
}

export async function sandboxCancelSubscription(
  deps: SandboxDeps,
  input: CancelSubscriptionInput,
): Promise<ProviderSubscription> {
  checkIdempotencyKey(input.idempotencyKey);
  const now = deps.now();
  const found = await deps.db.query<SubscriptionRow>(
    `SELECT ${COLUMNS} FROM provider_sandbox_subscriptions WHERE id = $1`,
    [input.providerReference],
  );
  const row = found.rows[0];
  if (!row) throw new PermanentError(`no such subscription: ${input.providerReference}`);
  // Cancelling what has already ended changes nothing, so a re-run is harmless.
  if (toSubscription(row, now).status === 'canceled') return toSubscription(row, now);
  const immediately = input.when === 'now' || (input.when instanceof Date && input.when <= now);
  const updated = await deps.db.query<SubscriptionRow>(
    `UPDATE provider_sandbox_subscriptions
        SET canceled_at = CASE WHEN $2 THEN $3::timestamptz ELSE NULL END,
            cancel_at_period_end = $4,
            cancel_at = CASE WHEN $2 THEN $3::timestamptz WHEN $4 THEN current_period_end ELSE $5::timestamptz END
      WHERE id = $1
      RETURNING ${COLUMNS}`,
    [row.id, immediately, now, input.when === 'period_end', input.when instanceof Date ? input.when : null],
  );
  return toSubscription(updated.rows[0] as SubscriptionRow, now);
}

export async function sandboxChangeSubscriptionPlan(
  deps: SandboxDeps,
  input: ChangeSubscriptionPlanInput,
): Promise<ProviderSubscription> {
  checkIdempotencyKey(input.idempotencyKey);
  checkAmount(input.plan.amount, 'plan amount', true);
  const currency = checkCurrency(input.plan.currency);
  const now = deps.now();
  const found = await deps.db.query<SubscriptionRow & { currency: string; interval: string }>(
    `SELECT ${COLUMNS}, currency, interval FROM provider_sandbox_subscriptions WHERE id = $1`,
    [input.providerReference],
  );
  const row = found.rows[0];
  if (!row) throw new PermanentError(`no such subscription: ${input.providerReference}`);
  if (toSubscription(row, now).status === 'canceled') {
    throw new PermanentError(`subscription ${row.id} has ended: its plan cannot change`);
  }
  if (row.currency !== currency || row.interval !== input.plan.interval) {
    throw new PermanentError(`plan ${input.plan.code} has another currency or interval than subscription ${row.id}`);
  }
  // Setting the same plan again changes nothing, so a re-run is harmless.
  const updated = await deps.db.query<SubscriptionRow>(
    `UPDATE provider_sandbox_subscriptions SET plan_code = $2, amount = $3 WHERE id = $1 RETURNING ${COLUMNS}`,
    [row.id, input.plan.code, input.plan.amount],
  );
  return toSubscription(updated.rows[0] as SubscriptionRow, now);
}
