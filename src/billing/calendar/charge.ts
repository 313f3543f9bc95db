// The charge of a renewed period whose invoice is collected automatically: through the existing
// invoice charge, which records the payment and starts payment_success or payment_failure.
import type { Db } from '../../db/types.ts';
import type { Registry } from '../../engine/index.ts';
import { BillflowError } from '../../errors.ts';
import type { PaymentProvider } from '../../providers/index.ts';
import { chargeInvoice } from '../workflows/index.ts';
import { renewalKey } from './renewals.ts';

export interface PeriodRef {
  subscription_id: string;
  period_start: Date;
  invoice_id: string;
}

export type ChargeOutcome =
  | { status: 'charged'; payment_id: string; payment_status: string; run_id: string }
  | { status: 'skipped'; reason: string };

/**
 * Charges a pending period's invoice with the customer's payment method on file. The provider
 * key is the period's renewal key, looked up before charging, so a second try (after a crash
 * between the charge and its record here, or from another worker) finds the first charge and
 * its payment run instead of charging again. What cannot succeed on a retry (no payment method,
 * the invoice paid or voided meanwhile, the provider refusing the request) is written down as
 * skipped with its reason: the invoice's own run still waits for payment until its due date.
 * A transient error is thrown and leaves the period pending for the next pass.
 */
export async function chargePeriod(
  db: Db,
  deps: { registry: Registry; provider: PaymentProvider; clock: () => Date },
  period: PeriodRef,
): Promise<ChargeOutcome> {
  const now = deps.clock();
  let outcome: ChargeOutcome;
  try {
    const started = await chargeInvoice(db, deps, period.invoice_id, {
      idempotencyKey: renewalKey(period.subscription_id, period.period_start),
      now,
    });
    outcome = {
      status: 'charged',
      payment_id: started.record.id,
      payment_status: started.record.status,
      run_id: started.runId,
    };
  } catch (error) {
    if (!(error instanceof BillflowError) || error.retryable) throw error;
    outcome = { status: 'skipped', reason: `not charged: ${error.message}`.slice(0, 500) };
  }
  await db.query(
    `UPDATE subscription_periods
     SET charge_status = $3, payment_id = $4, payment_run_id = $5, charge_detail = $6, charged_at = $7
     WHERE subscription_id = $1 AND period_start = $2 AND charge_status = 'pending'`,
    [
      period.subscription_id,
      period.period_start,
      outcome.status,
      outcome.status === 'charged' ? outcome.payment_id : null,
      outcome.status === 'charged' ? outcome.run_id : null,
      outcome.status === 'charged' ? `payment ${outcome.payment_status}` : outcome.reason,
      now,
    ],
  );
  return outcome;
}

/** Periods left pending (their worker stopped between renewal and charge), oldest first. */
export async function pendingCharges(db: Db, limit: number): Promise<PeriodRef[]> {
  const { rows } = await db.query<PeriodRef>(
    `SELECT subscription_id, period_start, invoice_id FROM subscription_periods
     WHERE charge_status = 'pending' AND invoice_id IS NOT NULL
     ORDER BY renewed_at, subscription_id LIMIT $1`,
    [limit],
  );
  return rows;
}
