// The retry_payment step of payment_failure: durable dunning. Each attempt waits on a durable
// timer (failed_at + dunningDays[i]), then charges the payment method again under a key of its
// own, so a re-run of an attempt never charges twice and a new attempt is a new charge.
import type { StepContext, StepControl, StepOutput } from '../../../engine/index.ts';
import { externalStep, finishRun, waitUntil } from '../../../engine/index.ts';
import { newId } from '../../../ids.ts';
import type { ChargeResult, Decline } from '../../../providers/index.ts';
import { findInvoice, getCustomer } from '../../records/index.ts';
import { DEFAULT_DUNNING_DAYS } from '../shared/deps.ts';
import type { WorkflowDeps } from '../shared/deps.ts';
import { doneAtProvider } from '../shared/origin.ts';
import type { PaymentRunInput } from '../shared/payment-input.ts';
import { EXTERNAL_RETRY } from '../shared/steps.ts';

const DAY_MS = 86_400_000;

/** What record_failure tells the later steps. */
export interface RecordFailureOutput {
  payment_id: string;
  customer_id: string;
  amount: number;
  currency: string;
  failure_code: string;
  decline: Decline;
  failed_at: string;
  counted: boolean;
  /** When dunning will charge again; null when it will not (hard decline, no payment method). */
  next_retry_at: string | null;
}

export interface DunningAttempt {
  attempt: number;
  at: string;
  status: 'succeeded' | 'failed';
  failure_code: string | null;
  decline: Decline | null;
  provider_reference: string | null;
}

/** Kept between wake-ups (and shown by the UI while the step waits). */
export interface DunningState {
  /** The attempt due next, from 1. */
  attempt: number;
  due_at: string;
  attempts: DunningAttempt[];
}

export type DunningOutcome = 'recovered' | 'hard_decline' | 'exhausted' | 'not_retryable' | 'settled';

export interface RetryPaymentOutput {
  outcome: DunningOutcome;
  attempts: DunningAttempt[];
  reason?: string;
  recovered_payment_id?: string;
  payment_success_run_id?: string;
}

export function dunningSchedule(deps: WorkflowDeps): readonly number[] {
  return deps.dunningDays ?? DEFAULT_DUNNING_DAYS;
}

/** When attempt `n` (from 1) is due, or null when the schedule has no such attempt. */
export function attemptDueAt(failedAt: string, days: readonly number[], n: number): Date | null {
  const offset = days[n - 1];
  return offset === undefined ? null : new Date(new Date(failedAt).getTime() + offset * DAY_MS);
}

/**
 * Whether dunning can charge again at all, and why not. A payment without a payment method was
 * processed elsewhere (recorded through the API or an event): Billflow has nothing to charge, so
 * the run finishes as `not_retryable` and leaves the subscriptions alone — the system that took
 * the payment runs its own retries and reports the outcome (a cancellation arrives as its own
 * event). Cancelling a customer's service for a retry we never could make would be wrong.
 * A failure reported by the provider's own event is the provider's to retry, whatever the decline.
 */
export function retryBlocker(input: PaymentRunInput, decline: Decline): string | undefined {
  if (input.origin) return `${doneAtProvider(input.origin)}: the provider retries it and reports what follows`;
  if (decline === 'hard') return 'hard decline: charging this payment method again cannot succeed';
  if (!input.payment_method) return 'no payment method to charge again: the payment was processed elsewhere';
  return undefined;
}

function attemptRecord(n: number, at: Date, result: ChargeResult): DunningAttempt {
  return {
    attempt: n,
    at: at.toISOString(),
    status: result.status,
    failure_code: result.failure_code,
    decline: result.status === 'failed' ? (result.decline ?? 'soft') : null,
    provider_reference: result.provider_reference,
  };
}

async function charge(deps: WorkflowDeps, ctx: StepContext<PaymentRunInput>, n: number): Promise<ChargeResult> {
  const input = ctx.input;
  const customer = await getCustomer(deps.db, input.customer_id);
  const providerCustomer = await deps.provider.ensureCustomer({
    idempotencyKey: `${ctx.idempotencyKey}:customer`,
    customerId: customer.id,
    email: customer.email,
    ...(customer.name && { name: customer.name }),
  });
  return deps.provider.charge({
    idempotencyKey: `${ctx.idempotencyKey}:attempt-${n}`,
    // After a wait this is false, so the provider looks for what an earlier try of the attempt did.
    firstAttempt: ctx.firstAttempt,
    amount: input.amount,
    currency: input.currency,
    customer: providerCustomer.provider_reference,
    // The card on file now: a customer who updated it since the failure is charged on the new one.
    paymentMethod: customer.payment_method ?? (input.payment_method as string),
    description: `Retry ${n} of payment ${input.payment_id}`,
    metadata: { payment_id: input.payment_id, run_id: ctx.runId, attempt: String(n) },
  });
}

/** Records the recovered payment and starts its payment_success run, once (keyed by this run). */
async function recover(deps: WorkflowDeps, ctx: StepContext<PaymentRunInput>, result: ChargeResult, failed: string) {
  const input = ctx.input;
  const paymentId = newId('pay');
  const started = await deps.startRun(deps.db, {
    type: 'payment_success',
    input: {
      payment_id: paymentId,
      customer_id: input.customer_id,
      invoice_id: input.invoice_id,
      subscription_id: input.subscription_id,
      retry_of: failed,
      amount: input.amount,
      currency: input.currency,
      status: 'succeeded',
      provider_reference: result.provider_reference ?? undefined,
      payment_method: input.payment_method,
    },
    idempotencyKey: `${ctx.runId}:recovered`,
    subjectRef: paymentId,
    ownerRef: input.customer_id,
    runFirstStep: true,
    now: ctx.now(),
  });
  const recorded = started.firstStepOutput as { payment_id?: string } | undefined;
  return { payment_id: recorded?.payment_id ?? paymentId, run_id: started.runId };
}

/** retry_payment, reading what `recorded` (record_failure) found. */
export function retryPaymentStep(deps: WorkflowDeps, recorded: StepOutput<RecordFailureOutput>) {
  return externalStep({
    name: 'retry_payment',
    retry: EXTERNAL_RETRY,
    async run(ctx: StepContext<PaymentRunInput>): Promise<RetryPaymentOutput | StepControl> {
      const failure = recorded.output(ctx);
      const days = dunningSchedule(deps);
      const state = ctx.state as DunningState | undefined;
      if (!state) {
        const blocker = retryBlocker(ctx.input, failure.decline);
        if (blocker && (failure.decline !== 'hard' || ctx.input.origin)) {
          return finishRun('not_retryable', { outcome: 'not_retryable', attempts: [], reason: blocker });
        }
        if (blocker) return { outcome: 'hard_decline', attempts: [], reason: blocker };
        const due = attemptDueAt(failure.failed_at, days, 1);
        if (!due) return { outcome: 'exhausted', attempts: [], reason: 'the dunning schedule has no retries' };
        return waitUntil(due, { attempt: 1, due_at: due.toISOString(), attempts: [] } satisfies DunningState);
      }

      // Paid some other way meanwhile (mark-paid, another charge): nothing left to collect.
      if (ctx.input.invoice_id) {
        const invoice = await findInvoice(deps.db, ctx.input.invoice_id);
        if (invoice && invoice.status !== 'open') {
          return finishRun('settled', {
            outcome: 'settled',
            attempts: state.attempts,
            reason: `invoice ${invoice.number} is ${invoice.status}`,
          });
        }
      }

      const n = state.attempt;
      const result = await charge(deps, ctx, n);
      const attempts = [...state.attempts, attemptRecord(n, ctx.now(), result)];
      if (result.status === 'succeeded') {
        const recovered = await recover(deps, ctx, result, failure.payment_id);
        return finishRun('recovered', {
          outcome: 'recovered',
          attempts,
          recovered_payment_id: recovered.payment_id,
          payment_success_run_id: recovered.run_id,
        } satisfies RetryPaymentOutput);
      }
      if (result.decline === 'hard') {
        return { outcome: 'hard_decline', attempts, reason: `attempt ${n} declined hard (${result.failure_code})` };
      }
      const next = attemptDueAt(failure.failed_at, days, n + 1);
      if (!next) return { outcome: 'exhausted', attempts, reason: `all ${days.length} retries declined` };
      return waitUntil(next, { attempt: n + 1, due_at: next.toISOString(), attempts } satisfies DunningState);
    },
  });
}
