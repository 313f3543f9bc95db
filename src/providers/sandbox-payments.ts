import { setTimeout as sleep } from 'node:timers/promises';
import type { Db, Queryable } from '../db/types.ts';
import { newId } from '../ids.ts';
import { PermanentError, RetryableError } from '../errors.ts';
import { classifyDecline } from './declines.ts';
import { SANDBOX_PAYMENT_METHODS, sandboxBehaviour } from './sandbox-methods.ts';
import type { ChargeInput, ChargeResult, Decline, RefundInput, RefundResult } from './types.ts';
import { checkAmount, checkCurrency, checkIdempotencyKey, checkMetadata } from './validate.ts';

export interface SandboxDeps {
  db: Db;
  now: () => Date;
  timeoutDelayMs: number;
}

interface ChargeRow {
  id: string;
  customer: string;
  payment_method: string;
  amount: number;
  currency: string;
  status: 'succeeded' | 'failed';
  failure_code: string | null;
  failure_message: string | null;
  decline: Decline | null;
  amount_refunded: number;
}

interface RefundRow {
  id: string;
  charge: string;
  amount: number;
  currency: string;
  status: RefundResult['status'];
}

const CHARGE_COLUMNS = `id, customer, payment_method, amount, currency, status, failure_code, failure_message,
  decline, amount_refunded`;

function toChargeResult(row: ChargeRow): ChargeResult {
  return {
    status: row.status,
    provider_reference: row.id,
    amount: row.amount,
    currency: row.currency,
    failure_code: row.failure_code,
    failure_message: row.failure_message,
    decline: row.decline,
  };
}

function toRefundResult(row: RefundRow): RefundResult {
  return {
    status: row.status,
    provider_reference: row.id,
    charge_reference: row.charge,
    amount: row.amount,
    currency: row.currency,
    failure_code: null,
  };
}

async function chargeByKey(db: Queryable, key: string): Promise<ChargeRow | undefined> {
  const found = await db.query<ChargeRow>(
    `SELECT ${CHARGE_COLUMNS} FROM provider_sandbox_charges WHERE idempotency_key = $1`,
    [key],
  );
  return found.rows[0];
}

/** Like Stripe: a key replays its first answer, and reusing it for a different charge is a bug. */
function replayCharge(row: ChargeRow, input: ChargeInput, currency: string): ChargeResult {
  if (
    row.amount !== input.amount ||
    row.currency !== currency ||
    row.customer !== input.customer ||
    row.payment_method !== input.paymentMethod
  ) {
    throw new PermanentError(
      `idempotency key ${input.idempotencyKey} was already used for a different charge (${row.id})`,
    );
  }
  return toChargeResult(row);
}

export async function findSandboxCharge(deps: SandboxDeps, key: string): Promise<ChargeResult | null> {
  const row = await chargeByKey(deps.db, key);
  return row ? toChargeResult(row) : null;
}

export async function sandboxCharge(deps: SandboxDeps, input: ChargeInput): Promise<ChargeResult> {
  checkIdempotencyKey(input.idempotencyKey);
  checkAmount(input.amount);
  const currency = checkCurrency(input.currency);
  checkMetadata(input.metadata);
  // Always look up first: in the sandbox the key is kept forever, so this is exact and cheap.
  const existing = await chargeByKey(deps.db, input.idempotencyKey);
  if (existing) return replayCharge(existing, input, currency);

  const behaviour = sandboxBehaviour(input.paymentMethod);
  if (!behaviour) {
    throw new PermanentError(
      `no such payment method: ${input.paymentMethod} (the sandbox knows ${Object.keys(SANDBOX_PAYMENT_METHODS).join(', ')})`,
    );
  }
  if (behaviour.kind === 'network_error') {
    throw new RetryableError('sandbox: network error before the charge reached the provider (pm_network_error)');
  }
  if (behaviour.kind === 'timeout') {
    await sleep(deps.timeoutDelayMs);
    throw new RetryableError(`sandbox: no answer from the provider within ${deps.timeoutDelayMs} ms (pm_timeout)`);
  }
  const customer = await deps.db.query('SELECT 1 FROM provider_sandbox_customers WHERE id = $1', [input.customer]);
  if (customer.rowCount === 0) throw new PermanentError(`no such customer: ${input.customer}`);

  const declined = behaviour.kind === 'decline' ? behaviour : undefined;
  const inserted = await deps.db.query<ChargeRow>(
    `INSERT INTO provider_sandbox_charges
       (id, idempotency_key, customer, payment_method, amount, currency, status, failure_code, failure_message,
        decline, description, metadata, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13)
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING ${CHARGE_COLUMNS}`,
    [
      newId('sbx_ch'),
      input.idempotencyKey,
      input.customer,
      input.paymentMethod,
      input.amount,
      currency,
      declined ? 'failed' : 'succeeded',
      declined?.code ?? null,
      declined?.message ?? null,
      declined ? classifyDecline(declined.code) : null,
      input.description ?? null,
      JSON.stringify(input.metadata ?? {}),
      deps.now(),
    ],
  );
  const row = inserted.rows[0];
  // Nothing inserted: a concurrent call with the same key got there first; answer as it did.
  if (!row) return replayCharge((await chargeByKey(deps.db, input.idempotencyKey)) as ChargeRow, input, currency);
  if (behaviour.kind === 'lost_response') {
    throw new RetryableError(`sandbox: the charge ${row.id} was made but its answer was lost (pm_lost_response)`);
  }
  return toChargeResult(row);
}

async function refundByKey(db: Queryable, key: string): Promise<RefundRow | undefined> {
  const found = await db.query<RefundRow>(
    'SELECT id, charge, amount, currency, status FROM provider_sandbox_refunds WHERE idempotency_key = $1',
    [key],
  );
  return found.rows[0];
}

function replayRefund(row: RefundRow, input: RefundInput): RefundResult {
  if (row.charge !== input.chargeReference || (input.amount !== undefined && input.amount !== row.amount)) {
    throw new PermanentError(
      `idempotency key ${input.idempotencyKey} was already used for a different refund (${row.id})`,
    );
  }
  return toRefundResult(row);
}

export async function findSandboxRefund(deps: SandboxDeps, key: string): Promise<RefundResult | null> {
  const row = await refundByKey(deps.db, key);
  return row ? toRefundResult(row) : null;
}

export async function sandboxRefund(deps: SandboxDeps, input: RefundInput): Promise<RefundResult> {
  checkIdempotencyKey(input.idempotencyKey);
  if (input.amount !== undefined) checkAmount(input.amount);
  checkMetadata(input.metadata);
  const existing = await refundByKey(deps.db, input.idempotencyKey);
  if (existing) return replayRefund(existing, input);
  return deps.db.transaction(async (tx) => {
    // The charge row lock serializes refunds of one charge, so together they never exceed it.
    const locked = await tx.query<ChargeRow>(
      `SELECT ${CHARGE_COLUMNS} FROM provider_sandbox_charges WHERE id = $1 FOR UPDATE`,
      [input.chargeReference],
    );
    const charge = locked.rows[0];
    if (!charge) throw new PermanentError(`no such charge: ${input.chargeReference}`);
    const raced = await refundByKey(tx, input.idempotencyKey);
    if (raced) return replayRefund(raced, input);
    if (charge.status !== 'succeeded')
      throw new PermanentError(`charge ${charge.id} failed; there is nothing to refund`);
    const remaining = charge.amount - charge.amount_refunded;
    if (remaining === 0) throw new PermanentError(`charge ${charge.id} has already been refunded in full`);
    const amount = input.amount ?? remaining;
    if (amount > remaining) {
      throw new PermanentError(`refund of ${amount} exceeds the ${remaining} left to refund on charge ${charge.id}`);
    }
    const inserted = await tx.query<RefundRow>(
      `INSERT INTO provider_sandbox_refunds (id, idempotency_key, charge, amount, currency, status, reason, metadata, created_at)
       VALUES ($1, $2, $3, $4, $5, 'succeeded', $6, $7::jsonb, $8)
       RETURNING id, charge, amount, currency, status`,
      [
        newId('sbx_re'),
        input.idempotencyKey,
        charge.id,
        amount,
        charge.currency,
        input.reason ?? null,
        JSON.stringify(input.metadata ?? {}),
        deps.now(),
      ],
    );
    await tx.query('UPDATE provider_sandbox_charges SET amount_refunded = amount_refunded + $2 WHERE id = $1', [
      charge.id,
      amount,
    ]);
    return toRefundResult(inserted.rows[0] as RefundRow);
  });
}
