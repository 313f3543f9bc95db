// Handling a verified Stripe event: record it in the ledger, map it, start the run it calls for.
import type { Db, Queryable } from '../../db/types.ts';
import type { Registry } from '../../engine/index.ts';
import { BillflowError, isRetryable } from '../../errors.ts';
import {
  findInvoiceByProviderId,
  findSubscription,
  findSubscriptionByProviderId,
  getCustomer,
} from '../records/index.ts';
import type { Customer } from '../records/index.ts';
import type { CalendarOwner } from '../calendar/deps.ts';
import {
  requestCancellation,
  startChargeback,
  startPayment,
  startRefund,
  startSubscription,
} from '../workflows/index.ts';
import type { OperationResult } from '../workflows/index.ts';
import type { RunOrigin } from '../workflows/index.ts';
import { existingRecordRun } from '../workflows/index.ts';
import { eventsWaitingFor, recordDelivery, settleEvent, stripeEventPayload } from './ledger.ts';
import type { EventOutcome, LedgerEvent, StripeEventOutcome, StripeEventSource } from './ledger.ts';
import { mapStripeEvent } from './map.ts';
import type {
  CancellationIntent,
  ChargebackIntent,
  InvoiceIntent,
  InvoicePaidIntent,
  PaymentIntent,
  RefundIntent,
  StripeIntent,
  SubscriptionIntent,
} from './map.ts';
import { ensurePlanForPrice, resolveCustomer, resolvePayment } from './resolve.ts';
import type { Resolved } from './resolve.ts';
import { invoiceRunOf, paidAtStripe, startStripeInvoice } from './invoices.ts';
import { applySubscriptionUpdate } from './subscription-updates.ts';

export interface StripeInboundDeps {
  registry: Registry;
  /** The request time (tests inject it); defaults to now. */
  now?: () => Date;
  /** Who owns the billing calendar (BILLFLOW_CALENDAR_OWNER); `stripe` acts on Stripe's invoices. */
  calendarOwner?: CalendarOwner;
}

/** While one event is applied: the event, as the origin of the runs it starts. */
interface Applying extends StripeInboundDeps {
  origin: RunOrigin;
  eventId: string;
  /** Stripe's `created` of the event (unix seconds). */
  eventCreated: number;
}

export interface HandledStripeEvent extends EventOutcome {
  eventId: string;
  type: string;
  /** A redelivery of an event already handled: nothing was done again. */
  repeated: boolean;
}

/** What handling produced, plus the Stripe objects now known here (events waiting for them go next). */
interface Applied {
  outcome: EventOutcome;
  provides: string[];
}

// Waiting events set free by an event may free others in turn; a chain this long is not Stripe's.
const MAX_REPLAY_DEPTH = 3;

/**
 * Handles one verified event (delivered by Stripe, or listed by the catch-up: the same path) and
 * says what happened. Every outcome but `failed` is final for
 * this delivery and safe to acknowledge with 2xx; `failed` (a transient error, e.g. the database
 * went away) should be answered with 5xx so that Stripe delivers the event again.
 */
export async function handleStripeEvent(
  db: Db,
  deps: StripeInboundDeps,
  event: LedgerEvent,
  options: { via?: StripeEventSource } = {},
): Promise<HandledStripeEvent> {
  const { event: row, handle } = await recordDelivery(db, event, { at: deps.now?.(), via: options.via });
  if (!handle) {
    return {
      eventId: row.id,
      type: row.type,
      repeated: true,
      outcome: row.outcome as EventOutcome['outcome'],
      ...(row.detail ? { detail: row.detail } : {}),
      ...(row.run_id ? { run_id: row.run_id } : {}),
      ...(row.run_type ? { run_type: row.run_type } : {}),
    };
  }
  const outcome = await applyAndSettle(db, deps, event, 0);
  return { eventId: event.id, type: event.type, repeated: false, ...outcome };
}

/**
 * Handles a recorded event again from its stored payload (an operator's retry of a waiting or
 * rejected event; also how waiting events are released when what they need arrives).
 */
export async function replayStripeEvent(db: Db, deps: StripeInboundDeps, eventId: string): Promise<EventOutcome> {
  return replay(db, deps, eventId, 0);
}

async function replay(db: Db, deps: StripeInboundDeps, eventId: string, depth: number): Promise<EventOutcome> {
  const payload = await stripeEventPayload(db, eventId);
  if (!payload) throw new Error(`stripe event ${eventId} is not in the ledger`);
  return applyAndSettle(db, deps, payload as LedgerEvent, depth);
}

async function applyAndSettle(
  db: Db,
  deps: StripeInboundDeps,
  event: LedgerEvent,
  depth: number,
): Promise<EventOutcome> {
  const applied = await apply(db, deps, event);
  await settleEvent(db, event.id, applied.outcome, { at: deps.now?.() });
  if (applied.outcome.outcome !== 'failed' && depth < MAX_REPLAY_DEPTH) {
    for (const waiting of await eventsWaitingFor(db, applied.provides)) {
      if (waiting !== event.id) await replay(db, deps, waiting, depth + 1);
    }
  }
  return applied.outcome;
}

async function apply(db: Db, deps: StripeInboundDeps, event: LedgerEvent): Promise<Applied> {
  const intent = mapStripeEvent(event, { calendarOwner: deps.calendarOwner });
  // The runs it starts record what Stripe did; they never ask a provider to do it again.
  const origin: RunOrigin = { provider: 'stripe', event_id: event.id };
  try {
    return await applyIntent(db, { ...deps, origin, eventId: event.id, eventCreated: event.created }, intent);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Billflow's own refusals (bad data, a conflicting record) will refuse again: record and
    // acknowledge. Anything else may pass on a later delivery.
    if (error instanceof BillflowError && !isRetryable(error)) {
      return { outcome: { outcome: 'rejected', error: message }, provides: [] };
    }
    return { outcome: { outcome: 'failed', error: message }, provides: [] };
  }
}

function applyIntent(db: Db, deps: Applying, intent: StripeIntent): Promise<Applied> {
  switch (intent.kind) {
    case 'payment':
      return applyPayment(db, deps, intent);
    case 'invoice':
      return applyInvoice(db, deps, intent);
    case 'invoice_paid':
      return applyInvoicePaid(db, deps, intent);
    case 'refund':
      return applyRefund(db, deps, intent);
    case 'chargeback':
      return applyChargeback(db, deps, intent);
    case 'subscription':
      return applySubscription(db, deps, intent);
    case 'cancellation':
      return applyCancellation(db, deps, intent);
    case 'subscription_update':
      return applySubscriptionUpdate(db, { id: deps.eventId, created: deps.eventCreated }, intent);
    case 'customer':
      return applyCustomer(db, intent);
    case 'ignore':
      return Promise.resolve(settled('ignored', intent.detail));
    case 'unsupported':
      return Promise.resolve(settled('unsupported', intent.detail));
    case 'reject':
      return Promise.resolve(settled('rejected', undefined, intent.detail));
  }
}

function settled(outcome: StripeEventOutcome & EventOutcome['outcome'], detail?: string, error?: string): Applied {
  return { outcome: { outcome, ...(detail ? { detail } : {}), ...(error ? { error } : {}) }, provides: [] };
}

function waiting(waitFor: string, detail: string): Applied {
  return { outcome: { outcome: 'waiting', waiting_for: waitFor, detail }, provides: [] };
}

/** The run an idempotency key already started, if any (another event about the same object). */
async function runForKey(q: Queryable, key: string): Promise<{ id: string; type: string } | undefined> {
  const { rows } = await q.query<{ id: string; type: string }>(
    'SELECT id, type FROM workflow_runs WHERE idempotency_key = $1',
    [key],
  );
  return rows[0];
}

function started<T extends { id: string; customer_id?: string }>(
  intent: { runType: string },
  result: OperationResult<T>,
  provides: string[],
  detail?: string,
): Applied {
  return {
    outcome: {
      outcome: result.created ? 'started' : 'duplicate',
      run_id: result.runId,
      run_type: intent.runType,
      record_id: result.record.id,
      ...(result.record.customer_id ? { customer_id: result.record.customer_id } : {}),
      ...(detail ? { detail } : {}),
    },
    provides,
  };
}

function duplicate(intent: { runType: string }, run: { id: string }, provides: string[]): Applied {
  return {
    outcome: {
      outcome: 'duplicate',
      run_id: run.id,
      run_type: intent.runType,
      detail: 'this object already started its run',
    },
    provides,
  };
}

async function applyPayment(db: Db, deps: Applying, intent: PaymentIntent): Promise<Applied> {
  const earlier = await runForKey(db, intent.idempotencyKey);
  // Recorded by another path: Billflow's own charge (a dunning attempt) or the REST API.
  const known = await resolvePayment(db, intent.stripeIds);
  // Stripe's invoice paid by a payment recorded before its link was known (API 2025-03-31+).
  if ('found' in known) await linkStripeInvoice(db, deps, intent, known.found.id);
  if (earlier) return duplicate(intent, earlier, intent.stripeIds);
  if ('found' in known) {
    // Another event about the same payment started its run a moment ago: that run, not a new one.
    const started = await existingRecordRun(db, intent.runType, known.found);
    if (started) return duplicate(intent, { id: started.runId }, intent.stripeIds);
    return {
      outcome: {
        outcome: 'ignored',
        detail: `already recorded as ${known.found.status} payment ${known.found.id}`,
        record_id: known.found.id,
        customer_id: known.found.customer_id,
      },
      provides: intent.stripeIds,
    };
  }
  const customer = await payingCustomer(db, intent);
  if ('waitFor' in customer) return waiting(customer.waitFor, customer.detail);
  if ('reject' in customer) return settled('rejected', undefined, customer.reject);
  const owner = customer.found;
  // Links to our invoice and subscription only when they are this customer's and can take it.
  const invoice = intent.providerInvoiceId ? await findInvoiceByProviderId(db, intent.providerInvoiceId) : undefined;
  const subscription = intent.providerSubscriptionId
    ? await findSubscriptionByProviderId(db, intent.providerSubscriptionId)
    : undefined;
  const result = await startPayment(
    db,
    deps.registry,
    {
      customer_id: owner.id,
      amount: intent.amount,
      currency: intent.currency,
      status: intent.status,
      provider_reference: intent.reference,
      ...(intent.status === 'failed'
        ? { failure_code: intent.failureCode, failure_message: intent.failureMessage }
        : {}),
      ...(invoice && invoice.customer_id === owner.id && invoice.status === 'open' ? { invoice_id: invoice.id } : {}),
      ...(subscription && subscription.customer_id === owner.id ? { subscription_id: subscription.id } : {}),
    },
    { idempotencyKey: intent.idempotencyKey, now: deps.now?.(), origin: deps.origin },
  );
  const provides = [...intent.stripeIds, ...(intent.customer.providerId ? [intent.customer.providerId] : [])];
  return started(
    intent,
    result,
    provides,
    customer.created ? `customer ${owner.id} created from the event` : undefined,
  );
}

/** The payer; an invoice_payment.paid names none, so its invoice's customer is the payer. */
async function payingCustomer(db: Db, intent: PaymentIntent): Promise<Resolved<Customer>> {
  const hint = intent.customer;
  if (hint.providerId || hint.billflowId || hint.email || !intent.providerInvoiceId) {
    return resolveCustomer(db, hint);
  }
  const invoice = await findInvoiceByProviderId(db, intent.providerInvoiceId);
  if (!invoice) {
    return {
      waitFor: intent.providerInvoiceId,
      detail: `invoice ${intent.providerInvoiceId} is not known yet; waiting for its invoice.created`,
    };
  }
  return { found: await getCustomer(db, invoice.customer_id) };
}

/**
 * With Stripe owning the calendar, a payment named as paying Stripe's invoice marks our copy paid
 * (and ends its run's wait) when the payment was recorded without that link.
 */
async function linkStripeInvoice(db: Db, deps: Applying, intent: PaymentIntent, paymentId: string): Promise<void> {
  if (deps.calendarOwner !== 'stripe' || intent.status !== 'succeeded' || !intent.providerInvoiceId) return;
  const invoice = await findInvoiceByProviderId(db, intent.providerInvoiceId);
  if (!invoice) return;
  await paidAtStripe(db, invoice.id, { paymentId, now: deps.now?.(), eventId: deps.eventId });
}

async function applyInvoice(db: Db, deps: Applying, intent: InvoiceIntent): Promise<Applied> {
  const provides = [intent.invoiceId];
  const customer = await resolveCustomer(db, intent.customer);
  if ('waitFor' in customer) return waiting(customer.waitFor, customer.detail);
  if ('reject' in customer) return settled('rejected', undefined, customer.reject);
  const known = await findInvoiceByProviderId(db, intent.invoiceId);
  if (known && known.customer_id !== customer.found.id) {
    return settled('rejected', undefined, `invoice ${intent.invoiceId} is recorded for customer ${known.customer_id}`);
  }
  const runId = known ? await invoiceRunOf(db, known.id) : undefined;
  if (known && !runId) {
    return {
      outcome: { outcome: 'ignored', detail: `already recorded as invoice ${known.number}`, record_id: known.id },
      provides,
    };
  }
  const result = await startStripeInvoice(db, deps.registry, intent, customer.found, deps.now?.());
  return {
    outcome: {
      outcome: result.created ? 'started' : 'duplicate',
      run_id: result.runId,
      run_type: intent.runType,
      record_id: result.invoice.id,
      customer_id: result.invoice.customer_id,
      ...(result.created
        ? customer.created
          ? { detail: `customer ${customer.found.id} created from the event` }
          : {}
        : { detail: `invoice ${result.invoice.number} already recorded; Stripe's links kept` }),
    },
    provides,
  };
}

async function applyInvoicePaid(db: Db, deps: Applying, intent: InvoicePaidIntent): Promise<Applied> {
  const invoice = await findInvoiceByProviderId(db, intent.invoiceId);
  if (!invoice) {
    return waiting(intent.invoiceId, `invoice ${intent.invoiceId} is not known yet; waiting for its invoice.created`);
  }
  const payment = intent.paymentIds.length > 0 ? await resolvePayment(db, intent.paymentIds) : undefined;
  const paymentId = payment && 'found' in payment ? payment.found.id : undefined;
  const paid = await paidAtStripe(db, invoice.id, { paymentId, now: deps.now?.(), eventId: deps.eventId });
  const runId = await invoiceRunOf(db, invoice.id);
  const ids = { record_id: invoice.id, customer_id: invoice.customer_id, ...(runId ? { run_id: runId } : {}) };
  if (paid.before !== 'open') {
    return {
      outcome: { outcome: 'ignored', detail: `invoice ${invoice.number} is already ${paid.before}`, ...ids },
      provides: [],
    };
  }
  return {
    outcome: {
      outcome: 'recorded',
      detail: `invoice ${invoice.number} marked paid${paid.wokenRunIds.length > 0 ? '; its run stopped waiting' : ''}`,
      ...ids,
    },
    provides: [],
  };
}

async function applyRefund(db: Db, deps: Applying, intent: RefundIntent): Promise<Applied> {
  const earlier = await runForKey(db, intent.idempotencyKey);
  if (earlier) return duplicate(intent, earlier, []);
  const payment = await resolvePayment(db, intent.paymentIds);
  if ('waitFor' in payment) return waiting(payment.waitFor, payment.detail);
  if ('reject' in payment) return settled('rejected', undefined, payment.reject);
  const result = await startRefund(
    db,
    deps.registry,
    {
      payment_id: payment.found.id,
      amount: intent.amount,
      ...(intent.reason ? { reason: intent.reason } : {}),
      provider_refund_id: intent.refundId,
    },
    { idempotencyKey: intent.idempotencyKey, now: deps.now?.(), origin: deps.origin },
  );
  return started(intent, result, [intent.refundId]);
}

async function applyChargeback(db: Db, deps: Applying, intent: ChargebackIntent): Promise<Applied> {
  const earlier = await runForKey(db, intent.idempotencyKey);
  if (earlier) return duplicate(intent, earlier, []);
  const payment = await resolvePayment(db, intent.paymentIds);
  if ('waitFor' in payment) return waiting(payment.waitFor, payment.detail);
  if ('reject' in payment) return settled('rejected', undefined, payment.reject);
  const result = await startChargeback(
    db,
    deps.registry,
    {
      payment_id: payment.found.id,
      amount: intent.amount,
      ...(intent.reason ? { reason: intent.reason } : {}),
      status: intent.status,
      provider_reference: intent.disputeId,
    },
    { idempotencyKey: intent.idempotencyKey, now: deps.now?.(), origin: deps.origin },
  );
  return started(intent, result, [intent.disputeId]);
}

async function applySubscription(db: Db, deps: Applying, intent: SubscriptionIntent): Promise<Applied> {
  const earlier = await runForKey(db, intent.idempotencyKey);
  if (earlier) return duplicate(intent, earlier, [intent.subscriptionId]);
  const known = await findSubscriptionByProviderId(db, intent.subscriptionId);
  if (known) {
    return {
      outcome: { outcome: 'ignored', detail: `already recorded as ${known.id}`, record_id: known.id },
      provides: [intent.subscriptionId],
    };
  }
  const customer = await resolveCustomer(db, intent.customer);
  if ('waitFor' in customer) return waiting(customer.waitFor, customer.detail);
  if ('reject' in customer) return settled('rejected', undefined, customer.reject);
  const plan = await ensurePlanForPrice(db, intent.price);
  if ('reject' in plan) return settled('rejected', undefined, plan.reject);
  if ('waitFor' in plan) return waiting(plan.waitFor, plan.detail);
  const result = await startSubscription(
    db,
    deps.registry,
    {
      customer_id: customer.found.id,
      plan_code: plan.found.code,
      trial_days: intent.trialDays,
      ...(intent.startedAt ? { started_at: intent.startedAt } : {}),
      provider_subscription_id: intent.subscriptionId,
    },
    { idempotencyKey: intent.idempotencyKey, now: deps.now?.(), origin: deps.origin },
  );
  const notes = [
    customer.created ? `customer ${customer.found.id} created from the event` : '',
    plan.created ? `plan ${plan.found.code} created from the price` : '',
  ].filter((n) => n);
  return started(intent, result, [intent.subscriptionId], notes.join('; ') || undefined);
}

async function applyCancellation(db: Db, deps: Applying, intent: CancellationIntent): Promise<Applied> {
  const earlier = await runForKey(db, intent.idempotencyKey);
  if (earlier) return duplicate(intent, earlier, []);
  const subscription =
    (await findSubscriptionByProviderId(db, intent.subscriptionId)) ??
    (intent.billflowSubscriptionId ? await findSubscription(db, intent.billflowSubscriptionId) : undefined);
  if (!subscription) {
    return waiting(
      intent.subscriptionId,
      `subscription ${intent.subscriptionId} is not known yet; waiting for its creation`,
    );
  }
  // Cancelled here first (Billflow's own cancellation reaching Stripe comes back as this event).
  if (subscription.cancel_at !== null) {
    return {
      outcome: {
        outcome: 'ignored',
        detail: `subscription ${subscription.id} is already ${subscription.status}`,
        record_id: subscription.id,
        customer_id: subscription.customer_id,
      },
      provides: [],
    };
  }
  const result = await requestCancellation(
    db,
    deps.registry,
    { subscription_id: subscription.id, mode: 'immediately', refund: 'none', reason: intent.reason },
    { idempotencyKey: intent.idempotencyKey, now: deps.now?.(), origin: deps.origin },
  );
  return started(intent, result, []);
}

async function applyCustomer(db: Db, intent: Extract<StripeIntent, { kind: 'customer' }>): Promise<Applied> {
  const customer = await resolveCustomer(db, intent.customer);
  if ('waitFor' in customer) return settled('ignored', 'the customer has no email; it is created by its first payment');
  if ('reject' in customer) return settled('rejected', undefined, customer.reject);
  return {
    outcome: {
      outcome: customer.created ? 'recorded' : 'ignored',
      detail: customer.created ? 'customer created from the event' : 'customer already known',
      record_id: customer.found.id,
      customer_id: customer.found.id,
    },
    provides: intent.customer.providerId ? [intent.customer.providerId] : [],
  };
}
