// The checks that ask the payment provider: it agrees with Billflow about which subscriptions
// are live and which refunds were made.
import type { Queryable } from '../../db/types.ts';
import { stepIdempotencyKey } from '../../engine/index.ts';
import type { PaymentProvider, ProviderSubscription } from '../../providers/types.ts';
import { NOT_EXECUTED } from '../records/refunds.ts';
import { REFUND_PROVIDER_STEP } from '../workflows/refund-creation/settle.ts';
import { check, objectRef } from './report.ts';
import type { ReconciliationCheck, ReconciliationFinding } from './report.ts';

interface SubscriptionRow {
  id: string;
  status: string;
  customer_id: string;
  provider_subscription_id: string | null;
  provider_customer_id: string | null;
}

const PROVIDER_ENDED = new Set(['canceled', 'incomplete_expired']);

function providerMismatch(sub: SubscriptionRow, found: ProviderSubscription | null): string | null {
  if (sub.status === 'cancelled') {
    if (found && !PROVIDER_ENDED.has(found.status)) {
      return `subscription ${sub.id} is cancelled in Billflow but ${found.status} at the provider (${found.provider_reference})`;
    }
    return null;
  }
  if (!found) return `subscription ${sub.id} is ${sub.status} in Billflow but does not exist at the provider`;
  if (PROVIDER_ENDED.has(found.status)) {
    return `subscription ${sub.id} is ${sub.status} in Billflow but ${found.status} at the provider (${found.provider_reference})`;
  }
  return null;
}

/**
 * Every subscription cancelled in Billflow is cancelled at the provider, and every live one
 * exists there and is not ended. Subscriptions with a run still on its way are left to it.
 */
export async function providerSubscriptions(
  q: Queryable,
  provider: PaymentProvider | undefined,
  limit: number,
  providerLimit: number,
): Promise<ReconciliationCheck> {
  const title = 'Subscriptions agree with the payment provider';
  if (!provider) return check('provider_subscriptions', title, [], 0, 'no payment provider configured here');
  const { rows } = await q.query<SubscriptionRow>(
    `SELECT s.id, s.status, s.customer_id, s.provider_subscription_id, c.provider_customer_id
     FROM subscriptions s JOIN customers c ON c.id = s.customer_id
     WHERE NOT EXISTS (SELECT 1 FROM workflow_runs w
                       WHERE w.subject_ref = s.id AND w.status IN ('pending', 'in_progress'))
       AND (s.provider_subscription_id IS NOT NULL OR s.status <> 'cancelled')
     ORDER BY s.updated_at DESC, s.id DESC LIMIT $1`,
    [providerLimit + 1],
  );
  const subs = rows.slice(0, providerLimit);
  const { findings, errors } = await lookUpEach(subs, async (sub) => {
    const found: ProviderSubscription | null =
      sub.provider_subscription_id || sub.provider_customer_id
        ? await provider.findSubscription({
            subscriptionId: sub.id,
            customer: sub.provider_customer_id ?? '',
            ...(sub.provider_subscription_id && { providerReference: sub.provider_subscription_id }),
          })
        : null;
    const message = providerMismatch(sub, found);
    return message ? { message, objects: [objectRef(sub.id), objectRef(sub.customer_id)] } : null;
  });
  const notes: string[] = [];
  if (rows.length > providerLimit) notes.push(`compared the ${providerLimit} most recently changed subscriptions`);
  if (errors.length > 0) {
    notes.push(`${errors.length} could not be looked up (${errors.slice(0, 3).join('; ')})`);
  }
  return check('provider_subscriptions', title, findings.slice(0, limit), findings.length, notes.join('; ') || null);
}

/** Asks the provider about each item, eight at a time; a failed question is an error, not a finding. */
async function lookUpEach<T extends { id: string }>(
  items: T[],
  ask: (item: T) => Promise<ReconciliationFinding | null>,
): Promise<{ findings: ReconciliationFinding[]; errors: string[] }> {
  const findings: ReconciliationFinding[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        const finding = await ask(item);
        if (finding) findings.push(finding);
      } catch (error) {
        errors.push(`${item.id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, items.length) }, worker));
  findings.sort((a, b) => (a.objects[0]?.id ?? '').localeCompare(b.objects[0]?.id ?? ''));
  return { findings, errors };
}

interface RefundRow {
  id: string;
  status: string;
  customer_id: string;
  charge: string;
  run_id: string;
  run_status: string;
}

/**
 * Refunds Billflow holds as not made, or as pending after their run ended, compared with what
 * the provider did under the provider step's key: an attempt whose answer was lost may have
 * made the refund after all. Refunds with a run still on its way are left to it.
 */
export async function providerRefunds(
  q: Queryable,
  provider: PaymentProvider | undefined,
  limit: number,
  providerLimit: number,
): Promise<ReconciliationCheck> {
  const title = 'Refunds agree with the payment provider';
  if (!provider) return check('provider_refunds', title, [], 0, 'no payment provider configured here');
  const { rows } = await q.query<RefundRow>(
    `SELECT r.id, r.status, r.customer_id, p.provider_reference AS charge, w.id AS run_id, w.status AS run_status
     FROM refunds r
     JOIN payments p ON p.id = r.payment_id
     JOIN LATERAL (SELECT id, status FROM workflow_runs w
                   WHERE w.subject_ref = r.id AND w.type = 'refund_creation'
                   ORDER BY w.created_at LIMIT 1) w ON true
     WHERE p.provider_reference IS NOT NULL
       AND w.status NOT IN ('pending', 'in_progress')
       AND ((r.status IN ('failed', 'cancelled') AND starts_with(coalesce(r.failure_reason, ''), $2))
            OR (r.status = 'pending' AND r.provider_reference IS NULL))
     ORDER BY r.updated_at DESC, r.id DESC LIMIT $1`,
    [providerLimit + 1, NOT_EXECUTED],
  );
  const refunds = rows.slice(0, providerLimit);
  const { findings, errors } = await lookUpEach(refunds, async (refund) => {
    const found = await provider.findRefund({
      idempotencyKey: stepIdempotencyKey(refund.run_id, REFUND_PROVIDER_STEP),
      chargeReference: refund.charge,
    });
    const made = found !== null && found.status !== 'failed';
    const objects = [objectRef(refund.id), objectRef(refund.run_id), objectRef(refund.customer_id)];
    if (made) {
      return {
        message:
          `refund ${refund.id} is ${refund.status} in Billflow but ${found.status} at the provider ` +
          `(${found.provider_reference}): the money went back to the customer`,
        objects,
      };
    }
    if (refund.status !== 'pending') return null;
    return {
      message:
        `refund ${refund.id} is pending but its run is ${refund.run_status} and the provider has no such ` +
        `refund: restart the run to make it, or cancel the run`,
      objects,
    };
  });
  const notes: string[] = [];
  if (rows.length > providerLimit) notes.push(`compared the ${providerLimit} most recently changed refunds`);
  if (errors.length > 0) {
    notes.push(`${errors.length} could not be looked up (${errors.slice(0, 3).join('; ')})`);
  }
  return check('provider_refunds', title, findings.slice(0, limit), findings.length, notes.join('; ') || null);
}
