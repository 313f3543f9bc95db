// Trial reminders: a configurable number of days before a trial ends, the customer is told when
// it ends and what happens then (trial_ending), once per trial. The trial's end itself is a
// renewal (renewals.ts): the first paid period, its invoice and its charge.
import type { Db } from '../../db/types.ts';
import { sendCustomerEmail, sendTeamNotice } from '../notifications/index.ts';
import type { NotifyDeps } from '../../notify/index.ts';
import { getCustomer, getPlan, getSubscription } from '../records/index.ts';
import { periodKeyTime } from './renewals.ts';

const DAY_MS = 86_400_000;

export interface TrialReminder {
  subscription_id: string;
  trial_end: Date;
  /** sent, or skipped (the customer email is switched off); already: sent by an earlier try. */
  email: 'sent' | 'already_sent' | 'skipped';
}

/**
 * Sends the reminders of trials ending within `days` of `now` that have none yet. Each message
 * is sent under a key of the subscription and its trial end (at least once: a crash after the
 * send and before it is marked sends it again under the same key, which the send log recognises
 * as already sent), then the subscription is marked reminded.
 */
export async function sendTrialReminders(
  db: Db,
  deps: { notify: NotifyDeps; clock: () => Date; days: number },
  options: { limit?: number } = {},
): Promise<TrialReminder[]> {
  if (deps.days <= 0) return [];
  const now = deps.clock();
  const { rows } = await db.query<{ id: string; trial_end: Date }>(
    `SELECT id, trial_end FROM subscriptions
     WHERE status = 'trialing' AND trial_reminded_at IS NULL AND trial_end > $1 AND trial_end <= $2
     ORDER BY trial_end, id LIMIT $3`,
    [now, new Date(now.getTime() + deps.days * DAY_MS), options.limit ?? 100],
  );
  const sent: TrialReminder[] = [];
  for (const row of rows) sent.push(await remind(db, deps.notify, row.id, row.trial_end, now));
  return sent;
}

async function remind(db: Db, notify: NotifyDeps, id: string, trialEnd: Date, now: Date): Promise<TrialReminder> {
  const subscription = await getSubscription(db, id);
  const customer = await getCustomer(db, subscription.customer_id);
  const plan = await getPlan(db, subscription.plan_id);
  // The trial_ending template data (its preview sample in ../notifications/outside-workflows.ts).
  const data = {
    customer: { id: customer.id, name: customer.name ?? customer.email, email: customer.email },
    subscription: {
      id: subscription.id,
      plan_name: plan.name,
      amount: subscription.amount,
      currency: subscription.currency,
      interval: subscription.interval,
      trial_end: trialEnd.toISOString(),
      collection_method: subscription.collection_method,
    },
  };
  const key = `trial-reminder:${id}:${periodKeyTime(trialEnd)}`;
  const email = await sendCustomerEmail(db, notify, {
    event: 'trial_ending',
    idempotencyKey: key,
    to: customer.email,
    locale: customer.locale,
    data,
  });
  await sendTeamNotice(db, notify, { event: 'trial_ending', idempotencyKey: key, data });
  await db.query(
    `UPDATE subscriptions SET trial_reminded_at = $2 WHERE id = $1 AND trial_reminded_at IS NULL AND trial_end = $3`,
    [id, now, trialEnd],
  );
  const status = email.status === 'skipped' ? 'skipped' : email.already_sent ? 'already_sent' : 'sent';
  return { subscription_id: id, trial_end: trialEnd, email: status };
}
