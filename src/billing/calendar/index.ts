// The billing calendar: what time starts by itself. Renewals at period end (a trial's end is the
// first), their charges, and trial reminders; run by the workers' maintenance loop.
import type { Db } from '../../db/types.ts';
import { chargePeriod, pendingCharges } from './charge.ts';
import type { ChargeOutcome } from './charge.ts';
import type { CalendarDeps } from './deps.ts';
import { dueSubscriptions, renewPeriod } from './renewals.ts';
import type { RenewedPeriod } from './renewals.ts';

export * from './deps.ts';
export { renewPeriod, renewalKey, periodKeyTime, dueSubscriptions } from './renewals.ts';
export type { RenewedPeriod, PeriodKind } from './renewals.ts';
export { chargePeriod, pendingCharges } from './charge.ts';
export type { ChargeOutcome, PeriodRef } from './charge.ts';
export { sendTrialReminders } from './trials.ts';
export type { TrialReminder } from './trials.ts';
export { listSubscriptionPeriods } from './periods.ts';
export type { SubscriptionPeriodView } from './periods.ts';

export interface RenewalPass {
  renewed: RenewedPeriod[];
  charges: ChargeOutcome[];
  /** What failed in this pass (each is retried on the next one); the rest went on. */
  errors: { subscription_id: string; error: unknown }[];
}

/**
 * One pass of renewals: first the charges a stopped worker left pending, then every period due
 * at the clock's now, each renewed in its own transaction and charged right after (a
 * subscription several periods behind is renewed period by period). Up to `limit` periods a pass;
 * the next pass carries on.
 */
export async function renewDueSubscriptions(
  db: Db,
  deps: CalendarDeps,
  options: { limit?: number } = {},
): Promise<RenewalPass> {
  const pass: RenewalPass = { renewed: [], charges: [], errors: [] };
  // Stripe Billing renews, invoices and charges: its invoice events start the runs instead.
  if (deps.owner === 'stripe') return pass;
  const charge = async (subscriptionId: string, run: () => Promise<ChargeOutcome>) => {
    try {
      pass.charges.push(await run());
    } catch (error) {
      pass.errors.push({ subscription_id: subscriptionId, error });
    }
  };
  for (const period of await pendingCharges(db, options.limit ?? 500)) {
    await charge(period.subscription_id, () => chargePeriod(db, deps, period));
  }
  let budget = options.limit ?? 500;
  // Failed or held by another worker: not again in this pass.
  const passed = new Set<string>();
  while (budget > 0) {
    const now = deps.clock();
    const due = await dueSubscriptions(db, now, { limit: Math.min(budget, 100), exclude: [...passed] });
    if (due.length === 0) break;
    for (const id of due) {
      let period: RenewedPeriod | undefined;
      try {
        period = await renewPeriod(db, deps.registry, id, now);
      } catch (error) {
        pass.errors.push({ subscription_id: id, error });
      }
      if (!period) {
        passed.add(id);
        continue;
      }
      budget--;
      pass.renewed.push(period);
      const invoiceId = period.invoice_id;
      if (period.charge_status === 'pending' && invoiceId) {
        await charge(id, () => chargePeriod(db, deps, { ...period, invoice_id: invoiceId }));
      }
    }
  }
  return pass;
}
