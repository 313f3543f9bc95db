// Shared pieces of the workflow end-to-end tests: a provider that can be switched between the
// sandbox and Stripe (the stand-in) inside one harness, seeds, and ways to drive and read runs.
import assert from 'node:assert/strict';
import type { Db, Queryable } from '../../src/db/types.ts';
import { RetryableError } from '../../src/errors.ts';
import type { RunDetail, StepView } from '../../src/engine/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { createStripeProvider } from '../../src/providers/stripe.ts';
import type { PaymentProvider } from '../../src/providers/index.ts';
import { recordPayment } from '../../src/billing/records/index.ts';
import type { Customer, Payment } from '../../src/billing/records/index.ts';
import { countPayment } from '../../src/billing/stats/index.ts';
import type { BillingHarness } from './harness.ts';
import type { StripeStandIn } from '../helpers/stripe-stand-in.ts';
import type { ReceivedMail } from '../notify/support/smtp.ts';

/** Delegates to the sandbox or to Stripe, whichever the test selects (one harness per file). */
export interface SwitchableProvider {
  provider: PaymentProvider;
  sandbox(): PaymentProvider;
  use(which: 'sandbox' | 'stripe'): void;
}

export function switchableProvider(standIn: StripeStandIn, db: Db, now: () => Date): SwitchableProvider {
  const sandbox = createSandboxProvider({ db, now });
  const stripe = createStripeProvider({ secretKey: standIn.secretKey, apiBase: standIn.url, now });
  let active: PaymentProvider = sandbox;
  const provider: PaymentProvider = {
    get name() {
      return active.name;
    },
    ensureCustomer: (input) => active.ensureCustomer(input),
    createSubscription: (input) => active.createSubscription(input),
    cancelSubscription: (input) => active.cancelSubscription(input),
    changeSubscriptionPlan: (input) => active.changeSubscriptionPlan(input),
    findSubscription: (query) => active.findSubscription(query),
    charge: (input) => active.charge(input),
    findCharge: (query) => active.findCharge(query),
    refund: (input) => active.refund(input),
    findRefund: (query) => active.findRefund(query),
  };
  return {
    provider,
    sandbox: () => sandbox,
    use(which) {
      active = which === 'sandbox' ? sandbox : stripe;
    },
  };
}

type FaultyMethod = 'createSubscription' | 'cancelSubscription' | 'refund' | 'findRefund';

/** A provider whose next calls of one method meet a fault. */
export interface FaultyProvider {
  provider: PaymentProvider;
  /** The next `count` calls of `method` throw `error` (a RetryableError is the provider's 5xx, a PermanentError its 4xx). */
  failNext(method: FaultyMethod, error: Error, count?: number): void;
  /**
   * The next call of `method` is held (a slow provider) until `release`; `entered` resolves once it
   * is. With `error`, the held call then throws it instead of reaching the provider.
   */
  holdNext(method: FaultyMethod, error?: Error): { entered: Promise<void>; release(): void };
  /** The next call of `method` is made, then its answer is lost (a timeout after the provider acted). */
  loseNextAnswer(method: FaultyMethod): void;
}

interface Fault {
  method: FaultyMethod;
  error?: Error;
  hold?: { enter(): void; released: Promise<void> };
  lose?: true;
}

export function faultyProvider(inner: PaymentProvider): FaultyProvider {
  const faults: Fault[] = [];
  async function through<T>(method: FaultyMethod, call: () => Promise<T>): Promise<T> {
    const index = faults.findIndex((f) => f.method === method);
    const fault = index === -1 ? undefined : faults.splice(index, 1)[0];
    if (fault?.hold) {
      fault.hold.enter();
      await fault.hold.released;
    }
    if (fault?.error) throw fault.error;
    const result = await call();
    if (fault?.lose) throw new RetryableError(`${method}: the answer was lost (timeout)`);
    return result;
  }
  const provider: PaymentProvider = {
    get name() {
      return inner.name;
    },
    ensureCustomer: (input) => inner.ensureCustomer(input),
    createSubscription: (input) => through('createSubscription', () => inner.createSubscription(input)),
    cancelSubscription: (input) => through('cancelSubscription', () => inner.cancelSubscription(input)),
    changeSubscriptionPlan: (input) => inner.changeSubscriptionPlan(input),
    findSubscription: (query) => inner.findSubscription(query),
    charge: (input) => inner.charge(input),
    findCharge: (query) => inner.findCharge(query),
    refund: (input) => through('refund', () => inner.refund(input)),
    findRefund: (query) => through('findRefund', () => inner.findRefund(query)),
  };
  return {
    provider,
    failNext(method, error, count = 1) {
      for (let i = 0; i < count; i++) faults.push({ method, error });
    },
    holdNext(method, error) {
      let enter = () => {};
      let release = () => {};
      const entered = new Promise<void>((resolve) => (enter = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      faults.push({ method, hold: { enter, released }, ...(error ? { error } : {}) });
      return { entered, release };
    },
    loseNextAnswer(method) {
      faults.push({ method, lose: true });
    },
  };
}

/** A succeeded payment made at the provider (so it can be refunded there), recorded and counted here. */
export async function seedProviderPayment(
  h: BillingHarness,
  customer: Customer,
  options: { amount: number; currency: string; subscriptionId?: string; paymentMethod?: string },
): Promise<Payment> {
  const providerCustomer = await h.provider.ensureCustomer({
    idempotencyKey: `seed:${customer.id}:customer`,
    customerId: customer.id,
    email: customer.email,
  });
  const charge = await h.provider.charge({
    idempotencyKey: `seed:${customer.id}:${options.amount}:${options.subscriptionId ?? '-'}`,
    amount: options.amount,
    currency: options.currency,
    customer: providerCustomer.provider_reference,
    paymentMethod: options.paymentMethod ?? (h.provider.name === 'stripe' ? 'pm_card_visa' : 'pm_card_ok'),
    firstAttempt: true,
  });
  assert.equal(charge.status, 'succeeded');
  const payment = await recordPayment(
    h.db,
    {
      customer_id: customer.id,
      subscription_id: options.subscriptionId,
      amount: options.amount,
      currency: options.currency,
      status: 'succeeded',
      provider_reference: charge.provider_reference ?? undefined,
    },
    { at: h.clock.now() },
  );
  // Counted as its payment_success run would, so the tests' stats comparisons stay exact.
  await countPayment(h.db, payment.id);
  return payment;
}

export const MINUTES = 60_000;

/**
 * Lets a run go through its automatic retries: each time it waits for a retry, the clock jumps
 * past the longest backoff, until the run is no longer in progress.
 */
export async function driveRetries(h: BillingHarness, runId: string): Promise<RunDetail> {
  for (;;) {
    const run = await h.settle(runId, (r) => r.status !== 'in_progress' || r.activity === 'retrying');
    if (run.status !== 'in_progress') return run;
    const attempt = run.attempt;
    h.clock.advance(10 * MINUTES);
    await h.settle(runId, (r) => r.status !== 'in_progress' || r.attempt !== attempt || r.activity !== 'retrying');
  }
}

export function step(run: RunDetail, name: string): StepView {
  const found = run.steps.find((s) => s.name === name);
  assert.ok(found, `run ${run.id} has no step ${name}`);
  return found;
}

/** Each step's number of attempts, by name. */
export function attempts(run: RunDetail): Record<string, number> {
  return Object.fromEntries(run.steps.map((s) => [s.name, s.attempts.length]));
}

export function assertCompleted(run: RunDetail): void {
  assert.equal(
    run.status,
    'completed',
    `run ${run.id} ${run.status} at ${run.failed_step}: ${JSON.stringify(run.error)}`,
  );
  for (const s of run.steps) assert.equal(s.status, 'completed', `${s.name} is ${s.status}`);
}

export function mailsTo(h: BillingHarness, to: string): ReceivedMail[] {
  return h.smtp.received.filter((m) => m.to.includes(to));
}

/** Slack messages (their text) that mention `needle`. */
export function slackMentioning(h: BillingHarness, needle: string): string[] {
  return h.slack.received
    .map((r) => (r.json as { text?: string } | null)?.text ?? '')
    .filter((text) => text.includes(needle));
}

export async function rows<T>(q: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await q.query<T>(sql, params)).rows;
}

/** The daily counters of one currency, as `metric day → value` (exact, for before/after checks). */
export async function counters(q: Queryable, currency: string): Promise<Record<string, number>> {
  const found = await rows<{ metric: string; day: string; value: string }>(
    q,
    `SELECT metric, day::text AS day, value::text AS value FROM stats_daily WHERE currency = $1 ORDER BY 1, 2`,
    [currency],
  );
  return Object.fromEntries(found.map((r) => [`${r.metric} ${r.day}`, Number(r.value)]));
}

/** Cancelled in Billflow, still billing at the provider: must always be empty. */
export const STILL_ACTIVE_AT_PROVIDER = `
  SELECT s.id FROM subscriptions s
  JOIN provider_sandbox_subscriptions p ON p.subscription_id = s.id
  WHERE s.status = 'cancelled' AND p.canceled_at IS NULL AND p.cancel_at IS NULL`;
