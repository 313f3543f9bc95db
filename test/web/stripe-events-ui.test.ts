// The Stripe event ledger and a subscription's billing periods in Chromium against a real
// Billflow: a developer filters the ledger, opens a waiting event and replays it once its payment
// is known (the database then holds the run and the audit entry); the customer page shows a
// renewed subscription's periods with their invoice, payment and runs.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { handleStripeEvent } from '../../src/billing/inbound/index.ts';
import { recordPayment } from '../../src/billing/records/index.ts';
import { billingRegistry } from '../../src/billing/workflows/index.ts';
import { createEmailTransport } from '../../src/notify/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { stripeEvent } from '../fixtures/stripe-events/events.ts';
import { browserSession, describeInChromium, eventually, signIn } from './harness.ts';

const DEVELOPER = { email: 'dev@example.com', password: 'correct horse battery staple' };
const DAY = 86_400_000;

describeInChromium('Stripe events and billing periods in Chromium', () => {
  const ui = browserSession({ users: [{ ...DEVELOPER, role: 'developer' }], apiKey: true });
  const events: Record<string, string> = {};

  before(async () => {
    const db = ui.db;
    // What Stripe sent: a payment (its run starts) and a refund of a payment not known here (it waits).
    const notify = {
      email: createEmailTransport({ from: 'b@example.com' }),
      fetch: globalThis.fetch,
      clock: () => new Date(),
    };
    const registry = billingRegistry({ db, provider: createSandboxProvider({ db }), notify });
    const deps = { registry };
    const paid = await handleStripeEvent(db, deps, stripeEvent('payment_intent.succeeded'));
    assert.equal(paid.outcome, 'started');
    events.paid = paid.eventId;
    const waiting = await handleStripeEvent(
      db,
      deps,
      stripeEvent('refund.created', { pi_3TbfwAcme0001: 'pi_ui_later', ch_3TbfwAcme0001: 'ch_ui_later' }),
    );
    assert.equal(waiting.outcome, 'waiting');
    events.waiting = waiting.eventId;
  });

  it('a developer filters the ledger, opens a waiting event and replays it with a reason', async () => {
    const db = ui.db;
    await signIn(ui.page, DEVELOPER);
    await ui.page.getByRole('link', { name: 'Stripe events' }).click();
    await ui.page.getByRole('heading', { name: 'Stripe events' }).waitFor();
    const table = ui.page.getByRole('table', { name: 'Stripe events' });
    await table.getByRole('link', { name: events.paid as string }).waitFor();
    await table.getByRole('link', { name: events.waiting as string }).waitFor();

    await ui.page.getByLabel('Outcome').selectOption('waiting');
    await eventually(
      async () => new URL(ui.page.url()).searchParams.get('outcome') === 'waiting',
      'the filter in the URL',
    );
    await eventually(async () => (await table.getByRole('row').count()) === 2, 'one waiting event listed');
    assert.equal(await table.getByRole('link', { name: events.paid as string }).count(), 0);
    await table.getByRole('link', { name: events.waiting as string }).click();
    await ui.page.getByRole('heading', { name: /refund\.created/ }).waitFor();
    await ui.page.getByText('pi_ui_later', { exact: true }).waitFor();
    await ui.page.getByRole('region', { name: 'Runs' }).getByText('It started no run.').waitFor();

    // The payment reaches Billflow another way; the developer replays the event.
    const customer = await ui.call<{ customer: { id: string } }>('POST', '/customers', {
      email: 'ui-later@example.com',
    });
    await recordPayment(db, {
      customer_id: customer.body.customer.id,
      amount: 4900,
      currency: 'EUR',
      status: 'succeeded',
      provider_reference: 'pi_ui_later',
    });
    await ui.page.getByRole('button', { name: 'Replay' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Replay this event' });
    await dialog.getByText(/handles .* again from the payload it stored/).waitFor();
    // Back: nothing happens.
    await dialog.getByRole('button', { name: 'Back' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const before = await db.query(`SELECT outcome FROM stripe_events WHERE id = $1`, [events.waiting]);
    assert.deepEqual(before.rows, [{ outcome: 'waiting' }]);

    await ui.page.getByRole('button', { name: 'Replay' }).click();
    await dialog.getByLabel('Reason').fill('payment imported from the bank statement');
    await dialog.getByRole('button', { name: 'Replay event' }).click();
    await ui.page
      .getByRole('status')
      .filter({ hasText: 'Replayed: the event went from Waiting to Started.' })
      .waitFor();
    const runLink = ui.page.getByRole('region', { name: 'Runs' }).getByRole('link', { name: /^run_/ });
    await runLink.waitFor();

    const { rows } = await db.query<{ outcome: string; run_id: string; run_type: string }>(
      'SELECT outcome, run_id, run_type FROM stripe_events WHERE id = $1',
      [events.waiting],
    );
    assert.equal(rows[0]?.outcome, 'started');
    assert.equal(rows[0]?.run_type, 'refund_creation');
    assert.equal(await runLink.textContent(), rows[0]?.run_id);
    const run = await db.query<{ type: string }>('SELECT type FROM workflow_runs WHERE id = $1', [rows[0]?.run_id]);
    assert.deepEqual(run.rows, [{ type: 'refund_creation' }]);
    const audit = await db.query<{ target: string; reason: string }>(
      "SELECT target, reason FROM audit_log WHERE action = 'stripe_event.replay'",
    );
    assert.deepEqual(audit.rows, [{ target: events.waiting, reason: 'payment imported from the bank statement' }]);
    await ui.b.shot('stripe-event');
    assert.deepEqual(ui.b.errors, [], 'console errors in the browser');
  });

  it('the ledger page shows where the catch-up stands: its last pass, cursor, findings and error', async () => {
    const db = ui.db;
    await ui.page.goto(`${ui.stack.url}/stripe-events`);
    const card = ui.page.getByRole('region', { name: 'Catch-up' });
    await card.getByText('No catch-up has run').waitFor();
    // A pass found two lost events, then the next one was refused by Stripe (as the workers record it).
    await db.query(
      `UPDATE stripe_catch_up SET last_run_at = now() - interval '2 minutes',
         listed_until = '2026-11-30T10:00:00Z', last_found = 0, last_error = 'Invalid API Key provided: sk_test_***'`,
    );
    await db.query(`UPDATE stripe_events SET received_via = 'catch_up' WHERE id = $1`, [events.paid]);
    await ui.page.reload();
    await card.getByText('Invalid API Key provided: sk_test_***').first().waitFor();
    const text = (await card.textContent()) ?? '';
    assert.match(text, /Last pass.*\(2 minutes ago\)/);
    assert.match(text, /Found in the last pass\s*0/);
    assert.match(text, /Caught up in the ledger\s*1/);
    assert.match(text, /The last pass failed/);
    const { rows } = await db.query<{ listed_until: Date }>('SELECT listed_until FROM stripe_catch_up');
    assert.ok(text.includes('Listed up to'), text);
    assert.equal(rows[0]?.listed_until.toISOString(), '2026-11-30T10:00:00.000Z');
    await ui.b.shot('stripe-catch-up');
    assert.deepEqual(ui.b.errors, [], 'console errors in the browser');
  });

  it('the customer page shows a renewed subscription’s periods with invoice, payment and runs', async () => {
    const db = ui.db;
    const plan = { code: 'team', name: 'Team', amount: 1900, currency: 'EUR', interval: 'month' };
    assert.equal((await ui.call('POST', '/plans', plan)).status, 201);
    const customer = await ui.call<{ customer: { id: string } }>('POST', '/customers', {
      email: 'periods@example.com',
      payment_method: 'pm_card_ok',
    });
    const customerId = customer.body.customer.id;
    // Started 35 days ago: its first period has ended, and the workers' calendar renews it.
    const started = await ui.call<{ subscription: { id: string } }>('POST', '/subscriptions', {
      customer_id: customerId,
      plan_code: 'team',
      started_at: new Date(Date.now() - 35 * DAY).toISOString(),
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const subscriptionId = started.body.subscription.id;
    const period = await eventually(async () => {
      const { rows } = await db.query<{ invoice_id: string; payment_id: string | null; charge_status: string }>(
        'SELECT invoice_id, payment_id, charge_status FROM subscription_periods WHERE subscription_id = $1',
        [subscriptionId],
      );
      return rows[0]?.charge_status === 'charged' ? rows[0] : undefined;
    }, 'the renewal and its charge');
    const invoice = await db.query<{ number: string }>('SELECT number FROM invoices WHERE id = $1', [
      period.invoice_id,
    ]);

    await ui.page.goto(`/customers/${customerId}`);
    const periods = ui.page.getByRole('region', { name: `Billing periods of ${subscriptionId}` });
    await periods.waitFor();
    const renewal = periods.getByRole('row').filter({ hasText: 'Renewal' });
    await renewal.getByText('current').waitFor();
    await renewal.getByText('Charged').waitFor();
    await renewal.getByRole('link', { name: invoice.rows[0]?.number as string }).waitFor();
    await renewal.getByRole('link', { name: period.payment_id as string }).waitFor();
    await renewal.getByRole('link', { name: 'Invoice created' }).waitFor();
    await renewal.getByRole('link', { name: 'Payment succeeded' }).waitFor();
    const first = periods.getByRole('row').filter({ hasText: 'First period' });
    await first.getByRole('link', { name: 'Subscription created' }).waitFor();
    await renewal.getByRole('link', { name: period.payment_id as string }).click();
    await eventually(
      async () => new URL(ui.page.url()).pathname === `/records/payment/${period.payment_id}`,
      'the payment page',
    );
    await ui.b.shot('subscription-periods');
    assert.deepEqual(ui.b.errors, [], 'console errors in the browser');
  });
});
