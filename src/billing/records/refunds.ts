import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import type { At } from './customers.ts';
import { toAmount } from './money.ts';
import { PAYMENT_COLUMNS, toPayment } from './payments.ts';
import type { Payment } from './payments.ts';
import { InputReader, idPattern } from './validate.ts';

export const REFUND_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/**
 * A refund of (part of) a payment. `pending` until the provider has executed it; a refund that
 * arrives from the provider is recorded `succeeded` at once. A failed refund gives its amount
 * back to the payment's refundable balance.
 */
export interface Refund {
  id: string;
  payment_id: string;
  customer_id: string;
  amount: number;
  currency: string;
  reason: string | null;
  status: RefundStatus;
  failure_reason: string | null;
  provider_reference: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface RefundInput {
  payment_id: string;
  /** Defaults to everything still refundable on the payment. */
  amount?: number;
  reason?: string;
  status?: 'pending' | 'succeeded';
  provider_reference?: string;
}

const COLUMNS = `id, payment_id, customer_id, amount, currency, reason, status, failure_reason, provider_reference,
  created_at, updated_at`;

function toRefund(row: Refund): Refund {
  return { ...row, amount: toAmount(row.amount) };
}

export function parseRefundInput(raw: unknown): RefundInput {
  const r = new InputReader(raw);
  const input: RefundInput = {
    payment_id: r.string('payment_id', { required: true, pattern: idPattern('pay'), hint: 'must be a pay_ id' }),
    amount: r.amount('amount'),
    reason: r.string('reason', { max: 500 }),
    status: r.oneOf('status', ['pending', 'succeeded'] as const),
    provider_reference: r.string('provider_reference'),
  };
  r.done();
  return input;
}

/**
 * Records a refund and reserves its amount on the payment, so the refunds of a payment can never
 * add up to more than was paid (also enforced by the database). The payment row is locked first:
 * concurrent refunds of one payment are decided one after the other, and a provider refund seen
 * twice is found instead of reserved twice. Must run inside a transaction.
 */
export async function createRefund(q: Queryable, input: RefundInput, options: At = {}): Promise<Refund> {
  const locked = await q.query<Payment>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1 FOR NO KEY UPDATE`, [
    input.payment_id,
  ]);
  const payment = locked.rows[0] && toPayment(locked.rows[0]);
  if (!payment) throw new InvalidInputError([{ field: 'payment_id', message: `no payment ${input.payment_id}` }]);
  if (payment.status !== 'succeeded') {
    throw new InvalidInputError([{ field: 'payment_id', message: 'only a succeeded payment can be refunded' }]);
  }
  if (input.provider_reference) {
    const existing = await findRefundByProviderReference(q, input.provider_reference);
    if (existing) {
      if (existing.payment_id !== payment.id || (input.amount !== undefined && input.amount !== existing.amount)) {
        throw new ConflictError(`provider refund ${input.provider_reference} was recorded with other details`, {
          field: 'provider_reference',
          refund_id: existing.id,
        });
      }
      return existing;
    }
  }
  const refundable = payment.amount - payment.refunded_amount;
  const amount = input.amount ?? refundable;
  if (refundable <= 0) throw new InvalidInputError([{ field: 'payment_id', message: 'is already fully refunded' }]);
  if (amount > refundable) {
    throw new InvalidInputError([{ field: 'amount', message: `must be at most the refundable ${refundable}` }]);
  }
  // Guarded even under the lock, so a caller that forgot its transaction still cannot over-refund.
  const reserved = await q.query(
    `UPDATE payments SET refunded_amount = refunded_amount + $2 WHERE id = $1 AND refunded_amount + $2 <= amount`,
    [payment.id, amount],
  );
  if (reserved.rowCount !== 1) {
    throw new InvalidInputError([{ field: 'amount', message: 'exceeds what is left to refund' }]);
  }
  const { rows } = await q.query<Refund>(
    `INSERT INTO refunds (id, payment_id, customer_id, amount, currency, reason, status, provider_reference,
       created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9::timestamptz, now()), coalesce($9::timestamptz, now()))
     RETURNING ${COLUMNS}`,
    [
      options.id ?? newId('re'),
      payment.id,
      payment.customer_id,
      amount,
      payment.currency,
      input.reason ?? null,
      input.status ?? 'pending',
      input.provider_reference ?? null,
      options.at ?? null,
    ],
  );
  return toRefund(rows[0] as Refund);
}

/**
 * The provider's answer for a pending refund. Repeating the same outcome is a no-op; a failure
 * releases the reserved amount so it can be refunded again.
 */
export async function setRefundOutcome(
  q: Queryable,
  id: string,
  outcome: { status: 'succeeded' | 'failed'; provider_reference?: string; failure_reason?: string },
): Promise<Refund> {
  const { rows } = await q.query<Refund>(
    `UPDATE refunds SET status = $2, provider_reference = coalesce($3, provider_reference), failure_reason = $4,
       updated_at = now()
     WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
    [id, outcome.status, outcome.provider_reference ?? null, outcome.failure_reason ?? null],
  );
  const updated = rows[0] && toRefund(rows[0]);
  if (!updated) {
    const current = await getRefund(q, id);
    if (current.status !== outcome.status) {
      throw new ConflictError(`refund ${id} is already ${current.status}`, { status: current.status });
    }
    return current;
  }
  if (updated.status === 'failed') {
    await q.query('UPDATE payments SET refunded_amount = refunded_amount - $2 WHERE id = $1', [
      updated.payment_id,
      updated.amount,
    ]);
  }
  return updated;
}

export async function findRefund(q: Queryable, id: string): Promise<Refund | undefined> {
  const { rows } = await q.query<Refund>(`SELECT ${COLUMNS} FROM refunds WHERE id = $1`, [id]);
  return rows[0] && toRefund(rows[0]);
}

export async function getRefund(q: Queryable, id: string): Promise<Refund> {
  const refund = await findRefund(q, id);
  if (!refund) throw new NotFoundError(`refund ${id} not found`);
  return refund;
}

export async function findRefundByProviderReference(q: Queryable, ref: string): Promise<Refund | undefined> {
  const { rows } = await q.query<Refund>(`SELECT ${COLUMNS} FROM refunds WHERE provider_reference = $1`, [ref]);
  return rows[0] && toRefund(rows[0]);
}

/** Newest first. */
export async function listPaymentRefunds(q: Queryable, paymentId: string): Promise<Refund[]> {
  const { rows } = await q.query<Refund>(`SELECT ${COLUMNS} FROM refunds WHERE payment_id = $1 ORDER BY id DESC`, [
    paymentId,
  ]);
  return rows.map(toRefund);
}
