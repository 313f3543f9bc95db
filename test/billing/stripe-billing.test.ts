// Stripe Billing owns the calendar (BILLFLOW_CALENDAR_OWNER=stripe), on both databases: Stripe
// renews a subscription, and its invoice events start Billflow's invoice workflows — the invoice
// once per Stripe invoice with its links, the payment once per payment whatever mix of payment,
// invoice and invoice_payment events tells of it, a failure without Billflow's own dunning — in
// the shapes of API versions before and after 2025-03-31; redeliveries and the catch-up add nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DatabaseKind } from '../../src/db/types.ts';
import { catchUpStripeEvents, handleStripeEvent } from '../../src/billing/inbound/index.ts';
import { renewDueSubscriptions } from '../../src/billing/calendar/index.ts';
import { TEST_DATABASES, eachDatabase } from '../helpers/databases.ts';
import { BASIL } from '../helpers/stripe-stand-in.ts';
import { DAY, one, outcomes, setUp, subscribeAtStripe } from './stripe-billing-support.ts';
import type { Setup } from './stripe-billing-support.ts';

const setups = new Map<DatabaseKind, Setup>();
for (const kind of TEST_DATABASES) setups.set(kind, await setUp(kind));

interface InvoiceRow {
  id: string;
  status: string;
  total: string;
  customer_id: string;
  subscription_id: string | null;
  paid_by_payment_id: string | null;
  provider_hosted_url: string | null;
  provider_pdf_url: string | null;
  period_start: Date | null;
}

eachDatabase((kind) => {
  const setup = setups.get(kind) as Setup;
  const { h, stand, deps } = setup;

  async function invoiceOf(stripeInvoice: string): Promise<InvoiceRow> {
    return one<InvoiceRow>(
      h.db,
      `SELECT id, status, total::text, customer_id, subscription_id, paid_by_payment_id, provider_hosted_url,
         provider_pdf_url, period_start FROM invoices WHERE provider_invoice_id = $1`,
      [stripeInvoice],
    );
  }

  async function runsAbout(subject: string, type: string): Promise<{ id: string }[]> {
    const { rows } = await h.db.query<{ id: string }>(
      'SELECT id FROM workflow_runs WHERE subject_ref = $1 AND type = $2',
      [subject, type],
    );
    return rows;
  }

  async function paymentsFor(intent: string): Promise<{ id: string; status: string; invoice_id: string | null }[]> {
    const { rows } = await h.db.query<{ id: string; status: string; invoice_id: string | null }>(
      // A success is recorded under its PaymentIntent, a failure under its charge.
      'SELECT id, status, invoice_id FROM payments WHERE provider_reference IN ($1, $2)',
      [intent, stand.payments.intents.get(intent)?.latest_charge ?? intent],
    );
    return rows;
  }

  async function paymentRuns(paymentId: string, type: string): Promise<number> {
    return (await runsAbout(paymentId, type)).length;
  }

  async function redeliverAll(eventIds: string[]): Promise<void> {
    for (const id of eventIds) assert.equal((await stand.events.redeliver(id)).status, 200, id);
  }

  for (const version of ['2024-06-20', BASIL]) {
    describe(`API version ${version}`, () => {
      it("a renewal at Stripe records Stripe's invoice once with its links, its payment once, and the invoice run ends paid", async () => {
        stand.useApiVersion(version);
        const subId = await subscribeAtStripe(setup, `paid-${version.slice(0, 4)}@example.com`, 'pm_card_visa');
        const ours = await one<{ id: string; customer_id: string }>(
          h.db,
          'SELECT id, customer_id FROM subscriptions WHERE provider_subscription_id = $1',
          [subId],
        );
        h.clock.advance(30 * DAY);
        // Billflow's own calendar does nothing with the subscription: Stripe's is in charge.
        const pass = await renewDueSubscriptions(h.db, {
          registry: h.registry,
          provider: h.provider,
          notify: h.notify,
          clock: h.clock.now,
          owner: 'stripe',
        });
        assert.deepEqual(pass, { renewed: [], charges: [], errors: [] });

        const first = stand.events.all.length;
        const cycle = stand.renew(subId);
        assert.equal(cycle.paid, true);
        await stand.events.settled();
        const emitted = stand.events.all.slice(first).map((e) => e.id);
        const expected =
          version === BASIL
            ? [
                'customer.subscription.updated:recorded',
                'invoice.created:started',
                'invoice.finalized:duplicate',
                'payment_intent.succeeded:started',
                'invoice_payment.paid:duplicate',
                'invoice.paid:ignored',
                'invoice.payment_succeeded:ignored',
              ]
            : [
                'customer.subscription.updated:recorded',
                'invoice.created:started',
                'invoice.finalized:duplicate',
                'payment_intent.succeeded:started',
                'invoice.paid:ignored',
                'invoice.payment_succeeded:duplicate',
              ];
        assert.deepEqual(await outcomes(h.db, emitted), expected);

        const invoice = await invoiceOf(cycle.invoice.id);
        const [payment, ...others] = await paymentsFor(cycle.paymentIntent.id);
        assert.equal(others.length, 0);
        assert.ok(payment);
        assert.deepEqual(
          { ...invoice, period_start: invoice.period_start?.toISOString() },
          {
            id: invoice.id,
            status: 'paid',
            total: '2900',
            customer_id: ours.customer_id,
            subscription_id: ours.id,
            paid_by_payment_id: payment.id,
            provider_hosted_url: `https://invoice.stripe.com/i/acct_standin/${cycle.invoice.id}`,
            provider_pdf_url: `https://pay.stripe.com/invoice/acct_standin/${cycle.invoice.id}/pdf`,
            period_start: new Date(
              Number(stand.billing.subscriptions.get(subId)?.items.data[0]?.current_period_start) * 1000,
            ).toISOString(),
          },
        );
        assert.equal(payment.status, 'succeeded');
        const invoiceRuns = await runsAbout(invoice.id, 'invoice_creation');
        assert.equal(invoiceRuns.length, 1);
        assert.equal(await paymentRuns(payment.id, 'payment_success'), 1);
        const run = await h.settle(invoiceRuns[0]?.id as string);
        assert.equal(run.status, 'completed');
        // Billflow charged nothing: Stripe did.
        assert.equal(stand.handled('POST', '/v1/payment_intents').length, 0);

        // Stripe delivering everything again, and a catch-up pass, start nothing more.
        await redeliverAll(emitted);
        await catchUpStripeEvents(h.db, deps);
        assert.equal((await runsAbout(invoice.id, 'invoice_creation')).length, 1);
        assert.equal(await paymentRuns(payment.id, 'payment_success'), 1);
        assert.equal((await paymentsFor(cycle.paymentIntent.id)).length, 1);
        assert.equal((await invoiceOf(cycle.invoice.id)).status, 'paid');
      });

      it('a declined renewal starts payment_failure once and no dunning; Stripe’s retry that succeeds ends the invoice run', async () => {
        stand.useApiVersion(version);
        const subId = await subscribeAtStripe(setup, `declined-${version.slice(0, 4)}@example.com`, 'pm_card_visa');
        h.clock.advance(30 * DAY);
        const first = stand.events.all.length;
        const cycle = stand.renew(subId, { card: 'pm_card_chargeDeclinedInsufficientFunds' });
        assert.equal(cycle.paid, false);
        await stand.events.settled();
        const emitted = stand.events.all.slice(first).map((e) => e.id);
        assert.deepEqual(await outcomes(h.db, emitted), [
          'customer.subscription.updated:recorded',
          'invoice.created:started',
          'invoice.finalized:duplicate',
          'payment_intent.payment_failed:started',
          version === BASIL ? 'invoice.payment_failed:ignored' : 'invoice.payment_failed:duplicate',
        ]);
        const invoice = await invoiceOf(cycle.invoice.id);
        assert.equal(invoice.status, 'open');
        const [failed, ...others] = await paymentsFor(cycle.paymentIntent.id);
        assert.equal(others.length, 0);
        assert.ok(failed);
        assert.equal(failed.status, 'failed');
        // Linked to the invoice only where Stripe's payload says so.
        assert.equal(failed.invoice_id, version === BASIL ? null : invoice.id);
        const failureRuns = await runsAbout(failed.id, 'payment_failure');
        assert.equal(failureRuns.length, 1);
        const failure = await h.settle(failureRuns[0]?.id as string);
        assert.equal(failure.status, 'completed');
        const retry = failure.steps.find((s) => s.name === 'retry_payment');
        assert.equal((retry?.output as { outcome?: string } | undefined)?.outcome, 'not_retryable');
        assert.equal(stand.handled('POST', '/v1/payment_intents').length, 0);

        // Stripe retries with a card that works: the invoice is paid and its run stops waiting.
        h.clock.advance(3 * DAY);
        const retried = stand.events.all.length;
        const second = stand.retryInvoice(cycle.invoice.id, 'pm_card_visa');
        assert.equal(second.paid, true);
        await stand.events.settled();
        const retryEvents = stand.events.all.slice(retried).map((e) => e.id);
        const paid = await invoiceOf(cycle.invoice.id);
        const [payment] = await paymentsFor(second.paymentIntent.id);
        assert.ok(payment);
        assert.equal(paid.status, 'paid');
        assert.equal(paid.paid_by_payment_id, payment.id);
        assert.equal(await paymentRuns(payment.id, 'payment_success'), 1);
        const invoiceRuns = await runsAbout(invoice.id, 'invoice_creation');
        assert.equal(invoiceRuns.length, 1);
        assert.equal((await h.settle(invoiceRuns[0]?.id as string)).status, 'completed');
        await redeliverAll([...emitted, ...retryEvents]);
        assert.equal((await runsAbout(failed.id, 'payment_failure')).length, 1);
        assert.equal(await paymentRuns(payment.id, 'payment_success'), 1);
        assert.equal((await runsAbout(invoice.id, 'invoice_creation')).length, 1);
      });
    });
  }

  it('invoice.paid before the invoice is known waits for it; lost deliveries are caught up once', async () => {
    stand.useApiVersion(BASIL);
    const subId = await subscribeAtStripe(setup, 'caught-up@example.com', 'pm_card_visa');
    h.clock.advance(30 * DAY);
    stand.events.stop();
    const first = stand.events.all.length;
    const cycle = stand.renew(subId);
    stand.events.resume();
    const missed = stand.events.all.slice(first);
    // Only invoice.paid arrives (redelivered by hand): the invoice is not known yet.
    const paidEvent = missed.find((e) => e.type === 'invoice.paid');
    assert.ok(paidEvent);
    await stand.events.redeliver(paidEvent.id);
    assert.deepEqual(await outcomes(h.db, [paidEvent.id]), ['invoice.paid:waiting']);
    h.clock.advance(60_000);
    const caught = await catchUpStripeEvents(h.db, deps);
    assert.ok(caught.handled.some((e) => e.type === 'invoice.created' && e.outcome === 'started'));
    const invoice = await invoiceOf(cycle.invoice.id);
    assert.equal(invoice.status, 'paid');
    assert.equal((await runsAbout(invoice.id, 'invoice_creation')).length, 1);
    const [payment, ...others] = await paymentsFor(cycle.paymentIntent.id);
    assert.equal(others.length, 0);
    assert.ok(payment);
    assert.equal(invoice.paid_by_payment_id, payment.id);
    assert.equal(await paymentRuns(payment.id, 'payment_success'), 1);
    assert.notDeepEqual(await outcomes(h.db, [paidEvent.id]), ['invoice.paid:waiting']);
  });

  it("with Billflow owning the calendar, Stripe's invoice events start nothing", async () => {
    const created = stand.events.all.find((e) => e.type === 'invoice.created');
    assert.ok(created);
    const handled = await handleStripeEvent(
      h.db,
      { registry: h.registry, now: h.clock.now },
      { ...created, id: `${created.id}_billflow` },
    );
    assert.equal(handled.outcome, 'unsupported');
  });
});
