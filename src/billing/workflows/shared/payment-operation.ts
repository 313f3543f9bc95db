// Payments recorded from elsewhere (POST /payments, provider events) and charges of invoices.
import { createHash } from 'node:crypto';
import type { Db } from '../../../db/types.ts';
import { newId } from '../../../ids.ts';
import type { Registry } from '../../../engine/index.ts';
import { ConflictError, InvalidInputError } from '../../../errors.ts';
import type { ChargeResult, PaymentProvider } from '../../../providers/index.ts';
import {
  findPayment,
  findPaymentByProviderReference,
  getCustomer,
  getInvoice,
  getPayment,
} from '../../records/index.ts';
import type { Payment } from '../../records/index.ts';
import type { TriggerBuilder } from './module.ts';
import type { OperationOptions, OperationResult } from './operation-options.ts';
import { existingRecordRun, startRecordRun } from './operation.ts';
import type { PaymentRunInput } from './payment-input.ts';

/** A payment as the API sends it, or as Billflow knows it (a dunning retry, a provider's event). */
export type PaymentFacts = Omit<PaymentRunInput, 'payment_id' | 'origin'>;

/**
 * Records a payment processed elsewhere and starts payment_success or payment_failure by its
 * status, in one transaction. A payment for an open invoice marks it paid. The same provider
 * payment seen again (another key, another event for it) answers with the first record and run.
 * The run's start checks the input (the API's body was checked by its schema already).
 */
export async function startPayment(
  db: Db,
  registry: Registry,
  facts: PaymentFacts,
  options: OperationOptions = {},
): Promise<OperationResult<Payment>> {
  const id = newId('pay');
  const type = facts.status === 'failed' ? 'payment_failure' : 'payment_success';
  if (facts.provider_reference) {
    const known = await findPaymentByProviderReference(db, facts.provider_reference);
    const existing = known && (await existingRecordRun(db, type, known));
    if (existing) return existing;
  }
  // The origin comes from the caller's options only, never from a request body.
  const input: PaymentRunInput = { ...facts, payment_id: id };
  return startRecordRun(
    db,
    registry,
    { type, input, recordId: id, idField: 'payment_id', ownerRef: facts.customer_id },
    options,
    getPayment,
  );
}

/** The caller's key as part of a provider key (which is limited to 255 characters). */
function callerKey(key: string | undefined): string {
  if (key === undefined) return 'default';
  return key.length <= 100 ? key : createHash('sha256').update(key).digest('hex');
}

export interface ChargeInvoiceDeps {
  registry: Registry;
  provider: PaymentProvider;
}

export interface ChargeInvoiceOptions extends OperationOptions {
  /**
   * The provider payment method to charge (pm_…); defaults to the customer's on file. Dunning
   * charges the customer's method on file again after a decline.
   */
  payment_method?: string;
}

/**
 * Charges an open invoice through the provider, then records the payment and starts
 * payment_success (which marks the invoice paid and ends its run) or payment_failure (dunning).
 * The provider key is derived from the invoice and the caller's idempotency key and looked up
 * first, so a repeated request never charges twice; without a key, an invoice is charged under
 * one key only (a second call replays the first answer — pass a new key to charge again).
 */
export async function chargeInvoice(
  db: Db,
  deps: ChargeInvoiceDeps,
  invoiceId: string,
  options: ChargeInvoiceOptions = {},
): Promise<OperationResult<Payment>> {
  const givenMethod = options.payment_method;
  const invoice = await getInvoice(db, invoiceId);
  const key = `invoice:${invoice.id}:charge:${callerKey(options.idempotencyKey)}`;
  // A repeated request returns what the first one recorded, even after the invoice was paid by it.
  const earlier = await deps.provider.findCharge({ idempotencyKey: key });
  if (invoice.status !== 'open' && !earlier) {
    throw new ConflictError(`invoice ${invoice.number} is ${invoice.status}`, { status: invoice.status });
  }
  if (invoice.total < 1) {
    throw new ConflictError(`invoice ${invoice.number} totals 0: mark it paid instead`, { status: invoice.status });
  }
  const customer = await getCustomer(db, invoice.customer_id);
  const paymentMethod = givenMethod ?? customer.payment_method ?? undefined;
  if (!paymentMethod && !earlier) {
    throw new InvalidInputError([
      { field: 'payment_method', message: `is required: customer ${customer.id} has no payment method on file` },
    ]);
  }
  let result: ChargeResult | null = earlier;
  if (!result) {
    const providerCustomer = await deps.provider.ensureCustomer({
      idempotencyKey: `${key}:customer`,
      customerId: customer.id,
      email: customer.email,
      ...(customer.name && { name: customer.name }),
    });
    result = await deps.provider.charge({
      idempotencyKey: key,
      firstAttempt: true,
      amount: invoice.total,
      currency: invoice.currency,
      customer: providerCustomer.provider_reference,
      paymentMethod: paymentMethod as string,
      description: `Invoice ${invoice.number}`,
      metadata: { invoice_id: invoice.id, customer_id: customer.id },
    });
  }
  if (result.amount !== invoice.total || result.currency !== invoice.currency) {
    throw new ConflictError(`the provider's charge under ${key} does not match invoice ${invoice.number}`);
  }
  const raw = {
    customer_id: customer.id,
    invoice_id: invoice.id,
    subscription_id: invoice.subscription_id ?? undefined,
    amount: invoice.total,
    currency: invoice.currency,
    status: result.status,
    failure_code: result.status === 'failed' ? (result.failure_code ?? 'declined') : undefined,
    failure_message: result.status === 'failed' ? (result.failure_message ?? undefined) : undefined,
    provider_reference: result.provider_reference ?? undefined,
    payment_method: paymentMethod,
  };
  return startPayment(db, deps.registry, raw, { ...options, idempotencyKey: `${key}:payment` });
}

/** A manual trigger for an existing payment of `status`: its payment_success or payment_failure run. */
export function paymentTrigger(status: 'succeeded' | 'failed'): TriggerBuilder {
  return {
    prefix: 'pay',
    async build(q, id) {
      const p = await findPayment(q, id);
      if (!p) return undefined;
      if (p.status !== status) {
        throw new InvalidInputError([
          { field: 'subject_id', message: `payment ${p.id} is ${p.status}; this workflow needs a ${status} one` },
        ]);
      }
      const optional = {
        invoice_id: p.invoice_id,
        subscription_id: p.subscription_id,
        retry_of: p.retry_of,
        failure_code: p.failure_code,
        failure_message: p.failure_message,
        provider_reference: p.provider_reference,
      };
      return {
        ownerRef: p.customer_id,
        input: {
          payment_id: p.id,
          customer_id: p.customer_id,
          amount: p.amount,
          currency: p.currency,
          status: p.status,
          ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== null)),
        },
      };
    },
  };
}
