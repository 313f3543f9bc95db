import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import { requireCustomer, useCustomerCurrency } from './customers.ts';
import type { At } from './customers.ts';
import { assertSameCurrency, toAmount } from './money.ts';

export const PAYMENT_STATUSES = ['succeeded', 'failed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** One payment attempt. Attempts are never rewritten: a dunning retry is a new row (`retry_of`). */
export interface Payment {
  id: string;
  customer_id: string;
  invoice_id: string | null;
  subscription_id: string | null;
  retry_of: string | null;
  amount: number;
  currency: string;
  status: PaymentStatus;
  failure_code: string | null;
  failure_message: string | null;
  /** Sum of this payment's refunds that did not fail. */
  refunded_amount: number;
  provider_reference: string | null;
  created_at: Date;
}

export interface PaymentInput {
  customer_id: string;
  invoice_id?: string;
  subscription_id?: string;
  retry_of?: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
  /** Required for a failed payment (e.g. insufficient_funds, stolen_card), refused otherwise. */
  failure_code?: string;
  failure_message?: string;
  provider_reference?: string;
}

/** The payment columns, for modules that read a payment with their own clause (FOR UPDATE). */
export const PAYMENT_COLUMNS = `id, customer_id, invoice_id, subscription_id, retry_of, amount, currency, status, failure_code,
  failure_message, refunded_amount, provider_reference, created_at`;

export function toPayment(row: Payment): Payment {
  return { ...row, amount: toAmount(row.amount), refunded_amount: toAmount(row.refunded_amount) };
}

/**
 * Records a payment attempt after checking what it points at (customer, invoice, subscription,
 * the attempt it retries). With a provider reference it is idempotent: the same provider payment
 * reported twice (a charge and its payment intent) yields the first record; the same reference
 * with different facts is a conflict.
 */
export async function recordPayment(q: Queryable, input: PaymentInput, options: At = {}): Promise<Payment> {
  const customer = await requireCustomer(q, input.customer_id);
  await checkReferences(q, input);
  await useCustomerCurrency(q, customer, input.currency);
  const { rows } = await q.query<Payment>(
    `INSERT INTO payments (id, customer_id, invoice_id, subscription_id, retry_of, amount, currency, status,
       failure_code, failure_message, provider_reference, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, coalesce($12::timestamptz, now()))
     ON CONFLICT (provider_reference) DO NOTHING
     RETURNING ${PAYMENT_COLUMNS}`,
    [
      options.id ?? newId('pay'),
      customer.id,
      input.invoice_id ?? null,
      input.subscription_id ?? null,
      input.retry_of ?? null,
      input.amount,
      input.currency,
      input.status,
      input.status === 'failed' ? (input.failure_code ?? 'unknown') : null,
      input.failure_message ?? null,
      input.provider_reference ?? null,
      options.at ?? null,
    ],
    { name: 'billflow_insert_payment' },
  );
  if (rows[0]) return toPayment(rows[0]);
  const existing = await findPaymentByProviderReference(q, input.provider_reference as string);
  const same =
    existing &&
    existing.customer_id === customer.id &&
    existing.amount === input.amount &&
    existing.currency === input.currency &&
    existing.status === input.status;
  if (!existing || !same) {
    throw new ConflictError(`provider payment ${input.provider_reference} was recorded with other details`, {
      field: 'provider_reference',
      payment_id: existing?.id,
    });
  }
  return existing;
}

async function checkReferences(q: Queryable, input: PaymentInput): Promise<void> {
  // A payment that names no invoice, subscription or earlier attempt has nothing to look up.
  if (input.invoice_id === undefined && input.subscription_id === undefined && input.retry_of === undefined) return;
  const { rows } = await q.query<{
    invoice_customer: string | null;
    invoice_currency: string | null;
    subscription_customer: string | null;
    subscription_currency: string | null;
    retried_customer: string | null;
    retried_status: string | null;
  }>(
    `SELECT
       (SELECT customer_id FROM invoices WHERE id = $1) AS invoice_customer,
       (SELECT currency FROM invoices WHERE id = $1) AS invoice_currency,
       (SELECT customer_id FROM subscriptions WHERE id = $2) AS subscription_customer,
       (SELECT currency FROM subscriptions WHERE id = $2) AS subscription_currency,
       (SELECT customer_id FROM payments WHERE id = $3) AS retried_customer,
       (SELECT status FROM payments WHERE id = $3) AS retried_status`,
    [input.invoice_id ?? null, input.subscription_id ?? null, input.retry_of ?? null],
  );
  const found = rows[0];
  const errors: { field: string; message: string }[] = [];
  const belongs = (field: string, id: string | undefined, owner: string | null | undefined) => {
    if (id === undefined) return;
    if (!owner) errors.push({ field, message: `no such record ${id}` });
    else if (owner !== input.customer_id) errors.push({ field, message: `${id} belongs to another customer` });
  };
  belongs('invoice_id', input.invoice_id, found?.invoice_customer);
  belongs('subscription_id', input.subscription_id, found?.subscription_customer);
  belongs('retry_of', input.retry_of, found?.retried_customer);
  if (input.retry_of && found?.retried_customer === input.customer_id && found.retried_status === 'succeeded') {
    errors.push({ field: 'retry_of', message: 'a succeeded payment is not retried' });
  }
  if (errors.length > 0) throw new InvalidInputError(errors);
  if (found?.invoice_currency) assertSameCurrency(found.invoice_currency, input.currency, 'currency');
  if (found?.subscription_currency) assertSameCurrency(found.subscription_currency, input.currency, 'currency');
}

export async function findPayment(q: Queryable, id: string): Promise<Payment | undefined> {
  const { rows } = await q.query<Payment>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1`, [id], {
    name: 'billflow_payment_by_id',
  });
  return rows[0] && toPayment(rows[0]);
}

export async function getPayment(q: Queryable, id: string): Promise<Payment> {
  const payment = await findPayment(q, id);
  if (!payment) throw new NotFoundError(`payment ${id} not found`);
  return payment;
}

export async function findPaymentByProviderReference(q: Queryable, ref: string): Promise<Payment | undefined> {
  const { rows } = await q.query<Payment>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE provider_reference = $1`, [
    ref,
  ]);
  return rows[0] && toPayment(rows[0]);
}

/** Newest first. */
export async function listCustomerPayments(
  q: Queryable,
  customerId: string,
  options: { status?: PaymentStatus; before?: string; limit?: number } = {},
): Promise<Payment[]> {
  const { rows } = await q.query<Payment>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments
     WHERE customer_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR id < $3)
     ORDER BY id DESC LIMIT $4`,
    [customerId, options.status ?? null, options.before ?? null, Math.min(options.limit ?? 100, 500)],
  );
  return rows.map(toPayment);
}

/** The subscription's most recent successful payment: what a full or prorated refund returns. */
export async function lastSucceededPayment(q: Queryable, subscriptionId: string): Promise<Payment | undefined> {
  const { rows } = await q.query<Payment>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE subscription_id = $1 AND status = 'succeeded' ORDER BY id DESC LIMIT 1`,
    [subscriptionId],
  );
  return rows[0] && toPayment(rows[0]);
}
