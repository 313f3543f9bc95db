import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import type { At } from './customers.ts';
import { toAmount } from './money.ts';
import { findPayment } from './payments.ts';

export const CHARGEBACK_STATUSES = ['needs_response', 'under_review', 'won', 'lost'] as const;
export type ChargebackStatus = (typeof CHARGEBACK_STATUSES)[number];

/** A dispute the card holder opened against a payment, as the provider reports it. */
export interface Chargeback {
  id: string;
  payment_id: string;
  customer_id: string;
  amount: number;
  currency: string;
  reason: string | null;
  status: ChargebackStatus;
  provider_reference: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ChargebackInput {
  payment_id: string;
  /** Defaults to the whole payment. */
  amount?: number;
  reason?: string;
  status?: ChargebackStatus;
  provider_reference?: string;
}

const COLUMNS = `id, payment_id, customer_id, amount, currency, reason, status, provider_reference, created_at,
  updated_at`;

function toChargeback(row: Chargeback): Chargeback {
  return { ...row, amount: toAmount(row.amount) };
}

/**
 * Records a chargeback against a succeeded payment. Idempotent on the provider reference (the
 * same dispute delivered twice is one chargeback).
 */
export async function createChargeback(q: Queryable, input: ChargebackInput, options: At = {}): Promise<Chargeback> {
  const payment = await findPayment(q, input.payment_id);
  if (!payment) throw new InvalidInputError([{ field: 'payment_id', message: `no payment ${input.payment_id}` }]);
  if (payment.status !== 'succeeded') {
    throw new InvalidInputError([{ field: 'payment_id', message: 'only a succeeded payment can be disputed' }]);
  }
  const amount = input.amount ?? payment.amount;
  if (amount > payment.amount) {
    throw new InvalidInputError([{ field: 'amount', message: `must be at most the payment's ${payment.amount}` }]);
  }
  const { rows } = await q.query<Chargeback>(
    `INSERT INTO chargebacks (id, payment_id, customer_id, amount, currency, reason, status, provider_reference,
       created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9::timestamptz, now()), coalesce($9::timestamptz, now()))
     ON CONFLICT (provider_reference) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      options.id ?? newId('cb'),
      payment.id,
      payment.customer_id,
      amount,
      payment.currency,
      input.reason ?? null,
      input.status ?? 'needs_response',
      input.provider_reference ?? null,
      options.at ?? null,
    ],
  );
  if (rows[0]) return toChargeback(rows[0]);
  const existing = await findChargebackByProviderReference(q, input.provider_reference as string);
  if (!existing || existing.payment_id !== payment.id || existing.amount !== amount) {
    throw new ConflictError(`provider dispute ${input.provider_reference} was recorded with other details`, {
      field: 'provider_reference',
      chargeback_id: existing?.id,
    });
  }
  return existing;
}

/** Follows the dispute as the provider reports it; the counted amount does not change. */
export async function setChargebackStatus(q: Queryable, id: string, status: ChargebackStatus): Promise<Chargeback> {
  if (!CHARGEBACK_STATUSES.includes(status)) {
    throw new InvalidInputError([{ field: 'status', message: `must be one of ${CHARGEBACK_STATUSES.join(', ')}` }]);
  }
  const { rows } = await q.query<Chargeback>(
    `UPDATE chargebacks SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, status],
  );
  if (!rows[0]) throw new NotFoundError(`chargeback ${id} not found`);
  return toChargeback(rows[0]);
}

export async function findChargeback(q: Queryable, id: string): Promise<Chargeback | undefined> {
  const { rows } = await q.query<Chargeback>(`SELECT ${COLUMNS} FROM chargebacks WHERE id = $1`, [id]);
  return rows[0] && toChargeback(rows[0]);
}

export async function getChargeback(q: Queryable, id: string): Promise<Chargeback> {
  const chargeback = await findChargeback(q, id);
  if (!chargeback) throw new NotFoundError(`chargeback ${id} not found`);
  return chargeback;
}

export async function findChargebackByProviderReference(q: Queryable, ref: string): Promise<Chargeback | undefined> {
  const { rows } = await q.query<Chargeback>(`SELECT ${COLUMNS} FROM chargebacks WHERE provider_reference = $1`, [ref]);
  return rows[0] && toChargeback(rows[0]);
}
