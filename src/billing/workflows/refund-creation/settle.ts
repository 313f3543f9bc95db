// What a refund becomes when its run does not simply complete. A provider call can reach the
// provider and lose its answer (a timeout): such a refund is only called "not made" once the
// provider, asked under the step's key, says so. The question is never asked inside a database
// transaction (a provider call may take seconds, and the sandbox provider lives in the same
// database); when it cannot be answered, the refund stays pending and a maintenance pass asks.
import { stepIdempotencyKey } from '../../../engine/index.ts';
import type { RunEndContext } from '../../../engine/index.ts';
import type { Db } from '../../../db/types.ts';
import { ConflictError, PermanentError } from '../../../errors.ts';
import type { PaymentProvider, RefundResult } from '../../../providers/index.ts';
import {
  OUTCOME_UNKNOWN,
  clearRefundOutcomeUnknown,
  findRefund,
  getRefund,
  markRefundNotExecuted,
  markRefundOutcomeUnknown,
  recordProviderRefund,
} from '../../records/index.ts';
import type { Refund } from '../../records/index.ts';
import { countRefund } from '../../stats/index.ts';
import type { RefundCreationInput } from './input.ts';

export const REFUND_PROVIDER_STEP = 'execute_provider_refund';

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The provider call of `refund` threw `error`. A refusal (the provider's 4xx, a PermanentError)
 * made nothing. Anything else may have reached the provider: it is asked under the same key, and
 * what it made is returned; null when it made nothing. When it cannot be asked either, the refund
 * is marked "outcome unknown" and null is returned (the caller rethrows `error`).
 */
export async function lookUpAfterFailure(
  db: Db,
  provider: PaymentProvider,
  refund: Refund,
  query: { idempotencyKey: string; chargeReference: string },
  error: unknown,
): Promise<RefundResult | null> {
  if (error instanceof PermanentError) return null;
  try {
    const found = await provider.findRefund(query);
    if (!found) await clearRefundOutcomeUnknown(db, refund.id);
    return found;
  } catch (lookupError) {
    await markRefundOutcomeUnknown(
      db,
      refund.id,
      `the refund call failed (${message(error)}) and ${provider.name} could not be asked whether it made the ` +
        `refund (${message(lookupError)})`,
    );
    return null;
  }
}

/**
 * The run stopped for good (failed, or cancelled) — what that means for its refund. Stopped
 * before the provider refund was made, the refund never will be: failed or cancelled, its amount
 * free again, never counted (a restart of a failed run reopens it). Stopped after it, the money
 * moved: the refund stays as the provider left it and is counted now, as update_stats would
 * have. Stopped at it with the outcome unknown: pending until `settleUnknownRefunds` knows.
 */
export async function settleStoppedRun(ctx: RunEndContext<RefundCreationInput>): Promise<void> {
  const refund = await findRefund(ctx.tx, ctx.input.refund_id);
  if (!refund) return; // stopped before record_refund wrote it
  const providerStep = ctx.steps.indexOf(REFUND_PROVIDER_STEP);
  if (ctx.stepIndex > providerStep) {
    if (refund.status === 'pending' || refund.status === 'succeeded') await countRefund(ctx.tx, refund.id);
    return;
  }
  if (ctx.status === 'cancelled' && ctx.stepRunning && ctx.stepIndex === providerStep) {
    throw new ConflictError(
      `the refund is being made at the provider right now; cancel once this attempt has ended, or let it finish`,
      { refund_id: refund.id },
    );
  }
  if (refund.status === 'pending' && refund.failure_reason?.startsWith(OUTCOME_UNKNOWN)) return;
  const why =
    ctx.status === 'cancelled'
      ? `the run was cancelled at ${ctx.steps[ctx.stepIndex]} (${ctx.reason})`
      : `the run failed at ${ctx.steps[ctx.stepIndex]} (${ctx.reason})`;
  await markRefundNotExecuted(ctx.tx, refund.id, ctx.status, why);
}

interface UnknownRefund {
  id: string;
  charge: string;
  run_id: string;
}

/**
 * Asks the provider about each refund whose outcome is unknown and whose run has stopped, and
 * settles it: made (counted, as the run would have) or not made (failed or cancelled, as its
 * run). One that still cannot be asked waits for the next pass. Returns the refunds settled.
 */
export async function settleUnknownRefunds(
  db: Db,
  provider: PaymentProvider,
  options: { limit?: number } = {},
): Promise<{ settled: string[]; errors: string[] }> {
  const { rows } = await db.query<UnknownRefund>(
    `SELECT r.id, p.provider_reference AS charge, w.id AS run_id
     FROM refunds r
     JOIN payments p ON p.id = r.payment_id
     JOIN workflow_runs w ON w.subject_ref = r.id AND w.type = 'refund_creation'
     WHERE r.status = 'pending' AND starts_with(coalesce(r.failure_reason, ''), $1)
       AND p.provider_reference IS NOT NULL AND w.status IN ('failed', 'cancelled')
     ORDER BY r.updated_at LIMIT $2`,
    [OUTCOME_UNKNOWN, options.limit ?? 100],
  );
  const settled: string[] = [];
  const errors: string[] = [];
  for (const row of rows) {
    let found: RefundResult | null;
    try {
      found = await provider.findRefund({
        idempotencyKey: stepIdempotencyKey(row.run_id, REFUND_PROVIDER_STEP),
        chargeReference: row.charge,
      });
    } catch (error) {
      errors.push(`${row.id}: ${message(error)}`);
      continue;
    }
    const done = await db.transaction(async (tx) => {
      // Only if nothing moved meanwhile: the run still stopped, the refund still unknown.
      const run = await tx.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1 FOR UPDATE', [
        row.run_id,
      ]);
      const status = run.rows[0]?.status;
      const refund = await getRefund(tx, row.id);
      if ((status !== 'failed' && status !== 'cancelled') || refund.status !== 'pending') return false;
      if (!refund.failure_reason?.startsWith(OUTCOME_UNKNOWN)) return false;
      if (found) {
        await recordProviderRefund(tx, row.id, found);
        if (found.status !== 'failed') await countRefund(tx, row.id);
      } else {
        await markRefundNotExecuted(
          tx,
          row.id,
          status,
          `the run ${status === 'failed' ? 'failed' : 'was cancelled'} at ${REFUND_PROVIDER_STEP} and ` +
            `${provider.name} has no such refund`,
        );
      }
      return true;
    });
    if (done) settled.push(row.id);
  }
  return { settled, errors };
}
