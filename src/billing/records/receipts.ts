import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { InvalidInputError, NotFoundError } from '../../errors.ts';
import type { At } from './customers.ts';
import { nextDocumentNumber } from './numbering.ts';

/** Proof of a succeeded payment, numbered RCPT-000001…; one per payment. */
export interface Receipt {
  id: string;
  payment_id: string;
  number: string;
  created_at: Date;
}

const COLUMNS = 'id, payment_id, number, created_at';

/**
 * The payment's receipt, created on first use. Generating it again returns the same receipt (and
 * consumes no number): the payment row is locked first, so two concurrent calls for a payment
 * take turns and the second sees the first's receipt; that lock already does what the counter's
 * early lock does for invoices, so the counter is only locked by taking the next number.
 * Must run inside a transaction.
 */
export async function createReceipt(q: Queryable, paymentId: string, options: At = {}): Promise<Receipt> {
  const payment = await q.query<{ status: string }>(
    'SELECT status FROM payments WHERE id = $1 FOR NO KEY UPDATE',
    [paymentId],
    { name: 'billflow_lock_payment_for_receipt' },
  );
  const status = payment.rows[0]?.status;
  if (status === undefined) throw new InvalidInputError([{ field: 'payment_id', message: `no payment ${paymentId}` }]);
  if (status !== 'succeeded') {
    throw new InvalidInputError([{ field: 'payment_id', message: 'only a succeeded payment has a receipt' }]);
  }
  const existing = await findReceiptForPayment(q, paymentId);
  if (existing) return existing;
  const number = await nextDocumentNumber(q, 'receipt');
  const { rows } = await q.query<Receipt>(
    `INSERT INTO receipts (id, payment_id, number, created_at) VALUES ($1, $2, $3, coalesce($4::timestamptz, now()))
     RETURNING ${COLUMNS}`,
    [options.id ?? newId('rcpt'), paymentId, number, options.at ?? null],
    { name: 'billflow_insert_receipt' },
  );
  return rows[0] as Receipt;
}

export async function findReceiptForPayment(q: Queryable, paymentId: string): Promise<Receipt | undefined> {
  const { rows } = await q.query<Receipt>(`SELECT ${COLUMNS} FROM receipts WHERE payment_id = $1`, [paymentId], {
    name: 'billflow_receipt_by_payment',
  });
  return rows[0];
}

export async function getReceipt(q: Queryable, id: string): Promise<Receipt> {
  const { rows } = await q.query<Receipt>(`SELECT ${COLUMNS} FROM receipts WHERE id = $1`, [id]);
  if (!rows[0]) throw new NotFoundError(`receipt ${id} not found`);
  return rows[0];
}
