import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import type { At } from './customers.ts';
import { toAmount } from './money.ts';
import { PAYMENT_COLUMNS, toPayment } from './payments.ts';
import type { Payment } from './payments.ts';

export const REFUND_STATUSES = ['pending', 'succeeded', 'failed', 'cancelled'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/**
 * A refund of (part of) a payment. `pending` until the provider has executed it; a refund that
 * arrives from the provider is recorded `succeeded` at once. `failed`: the provider refused it,
 * or its run failed before the provider executed it; `cancelled`: its run was cancelled, or an
 * operator skipped the provider refund. A failed or cancelled refund gives its amount back to
 * the payment's refundable balance and is never counted.
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

/** The start of `failure_reason` of a refund the provider never executed (see markRefundNotExecuted). */
export const NOT_EXECUTED = 'not executed: ';

/**
 * A refund whose provider refund will not happen (its run failed or was cancelled before it, or
 * the step was skipped): `failed` or `cancelled`, its amount given back to the payment. Only a
 * pending refund changes, or one already failed that way becoming cancelled (the amount is given
 * back once). Returns the refund as it is afterwards. Must run inside a transaction.
 */
export async function markRefundNotExecuted(
  q: Queryable,
  id: string,
  status: 'failed' | 'cancelled',
  why: string,
): Promise<Refund> {
  const { rows } = await q.query<{ was: RefundStatus; payment_id: string; amount: string }>(
    `WITH prev AS (SELECT id, status FROM refunds WHERE id = $1 FOR UPDATE)
     UPDATE refunds r SET status = $2, failure_reason = $3, updated_at = now()
     FROM prev
     WHERE r.id = prev.id
       AND (prev.status = 'pending'
            OR (prev.status = 'failed' AND $2 = 'cancelled' AND starts_with(r.failure_reason, $4)))
     RETURNING prev.status AS was, r.payment_id, r.amount`,
    [id, status, `${NOT_EXECUTED}${why}`, NOT_EXECUTED],
  );
  const changed = rows[0];
  if (changed?.was === 'pending') {
    await q.query('UPDATE payments SET refunded_amount = refunded_amount - $2 WHERE id = $1', [
      changed.payment_id,
      changed.amount,
    ]);
  }
  return getRefund(q, id);
}

/**
 * A refund marked failed because its run stopped before the provider executed it, pending again
 * (its run was restarted): its amount is reserved on the payment again, if it is still there
 * (another refund may have taken it meanwhile: then a ConflictError, and it stays failed).
 * Anything else is returned unchanged. Must run inside a transaction.
 */
/** Marks a pending refund whose provider call may have been made with its answer lost, and the provider could not be asked. */
export const OUTCOME_UNKNOWN = 'outcome unknown: ';

/**
 * The provider could not tell whether an attempt made this refund: it stays pending (its amount
 * held) with the reason, until an attempt or `settleUnknownRefunds` learns the answer.
 */
export async function markRefundOutcomeUnknown(q: Queryable, id: string, why: string): Promise<void> {
  await q.query(`UPDATE refunds SET failure_reason = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`, [
    id,
    `${OUTCOME_UNKNOWN}${why}`,
  ]);
}

/** The provider said nothing was made: a pending refund's "outcome unknown" mark goes. */
export async function clearRefundOutcomeUnknown(q: Queryable, id: string): Promise<void> {
  await q.query(
    `UPDATE refunds SET failure_reason = NULL, updated_at = now()
     WHERE id = $1 AND status = 'pending' AND starts_with(coalesce(failure_reason, ''), $2)`,
    [id, OUTCOME_UNKNOWN],
  );
}

/** What a provider answered about a refund (the shape of the provider interface's result). */
export interface ProviderRefundAnswer {
  status: 'succeeded' | 'pending' | 'failed';
  provider_reference: string;
  failure_code: string | null;
}

/** Records what the provider answered: settled, or accepted (pending) and settled later by its event. */
export async function recordProviderRefund(q: Queryable, id: string, answer: ProviderRefundAnswer): Promise<void> {
  if (answer.status === 'pending') {
    await q.query(
      `UPDATE refunds SET provider_reference = coalesce(provider_reference, $2),
         failure_reason = CASE WHEN starts_with(coalesce(failure_reason, ''), $3) THEN NULL ELSE failure_reason END
       WHERE id = $1`,
      [id, answer.provider_reference, OUTCOME_UNKNOWN],
    );
    return;
  }
  await setRefundOutcome(q, id, {
    status: answer.status,
    provider_reference: answer.provider_reference,
    failure_reason: answer.failure_code ?? undefined,
  });
}

export async function reopenRefund(q: Queryable, id: string): Promise<Refund> {
  const { rows } = await q.query<Refund>(`SELECT ${COLUMNS} FROM refunds WHERE id = $1 FOR UPDATE`, [id]);
  const refund = rows[0] && toRefund(rows[0]);
  if (!refund) throw new NotFoundError(`refund ${id} not found`);
  if (refund.status !== 'failed' || !refund.failure_reason?.startsWith(NOT_EXECUTED)) return refund;
  const reserved = await q.query(
    `UPDATE payments SET refunded_amount = refunded_amount + $2 WHERE id = $1 AND refunded_amount + $2 <= amount`,
    [refund.payment_id, refund.amount],
  );
  if (reserved.rowCount !== 1) {
    throw new ConflictError(
      `refund ${id} cannot be made any more: payment ${refund.payment_id} no longer has ${refund.amount} left to refund`,
      { refund_id: id, payment_id: refund.payment_id },
    );
  }
  const reopened = await q.query<Refund>(
    `UPDATE refunds SET status = 'pending', failure_reason = NULL, updated_at = now() WHERE id = $1
     RETURNING ${COLUMNS}`,
    [id],
  );
  return toRefund(reopened.rows[0] as Refund);
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
