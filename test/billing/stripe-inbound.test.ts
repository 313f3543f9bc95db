// handleStripeEvent on both databases: the ledger, out-of-order events, echoes of Billflow's own
// objects, prices unknown here, concurrent deliveries and a fault while handling.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/types.ts';
import { getRun } from '../../src/engine/index.ts';
import {
  createCustomer,
  createPlan,
  createSubscription,
  findCustomerByProviderId,
  findSubscriptionByProviderId,
  recordPayment,
} from '../../src/billing/records/index.ts';
import {
  findStripeEvent,
  handleStripeEvent,
  listStripeEvents,
  replayStripeEvent,
} from '../../src/billing/inbound/index.ts';
import type { StripeInboundDeps } from '../../src/billing/inbound/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { stripeEvent, withObject } from '../fixtures/stripe-events/events.ts';
import type { FixtureName, StripeEventJson } from '../fixtures/stripe-events/events.ts';

async function runCount(db: Db, type?: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM workflow_runs WHERE ($1::text IS NULL OR type = $1)',
    [type ?? null],
  );
  return rows[0]?.n ?? 0;
}

/** Fixture ids renamed with a suffix, so each test has its own Stripe objects. */
function fixture(name: FixtureName, tag: string, extra: Record<string, string> = {}): StripeEventJson {
  const ids = [
    'pi_3TbfwAcme0001',
    'ch_3TbfwAcme0001',
    're_3TbfwAcme0001',
    'du_1TbfwAcme0001',
    'sub_1TbfwAcme0001',
    'in_1TbfwAcme0001',
    'cus_TbfwAcme0001',
    'cus_TbfwAcme0002',
    'price_1PgafmB7WZ01zgkW6dKueIc5',
  ];
  const rename: Record<string, string> = Object.fromEntries(ids.map((id) => [id, `${id}${tag}`]));
  const event = stripeEvent(name, { ...rename, ...extra });
  return { ...event, id: `${event.id}${tag}` };
}

eachDatabase((kind) => {
  let h: BillingHarness;
  let deps: StripeInboundDeps;
  const handle = (event: StripeEventJson) => handleStripeEvent(h.db, deps, event);

  before(async () => {
    h = await billingHarness(kind, { startWorker: false });
    deps = { registry: h.registry, now: h.clock.now };
  });

  describe('out of order', () => {
    it('parks a refund and a dispute until their payment arrives, then starts their runs', async () => {
      const refund = await handle(fixture('refund.created', '_oo1'));
      assert.equal(refund.outcome, 'waiting');
      assert.equal(refund.waiting_for, 'pi_3TbfwAcme0001_oo1');
      assert.match(String(refund.detail), /not known yet/);
      const dispute = await handle(fixture('charge.dispute.created', '_oo1'));
      assert.equal(dispute.outcome, 'waiting');
      // A redelivery of a waiting event is handled again (and still waits).
      const again = await handle(fixture('refund.created', '_oo1'));
      assert.equal(again.outcome, 'waiting');
      assert.equal(again.repeated, false);
      assert.equal(await runCount(h.db), 0);

      const payment = await handle(fixture('payment_intent.succeeded', '_oo1'));
      assert.equal(payment.outcome, 'started');
      const refundRow = await findStripeEvent(h.db, 'evt_1Q0007Bfwrefundcrea_oo1');
      assert.equal(refundRow?.outcome, 'started');
      assert.equal(refundRow?.waiting_for, null);
      assert.equal((await getRun(h.db, String(refundRow?.run_id))).type, 'refund_creation');
      const disputeRow = await findStripeEvent(h.db, 'evt_1Q0003Bfwchargedisp_oo1');
      assert.equal(disputeRow?.outcome, 'started');
      assert.equal((await getRun(h.db, String(disputeRow?.run_id))).type, 'chargeback_creation');
      assert.equal(refundRow?.deliveries, 2);
    });

    it('parks a deletion until its subscription is created, then cancels it', async () => {
      const deleted = await handle(fixture('customer.subscription.deleted', '_oo2'));
      assert.equal(deleted.outcome, 'waiting');
      assert.equal(deleted.waiting_for, 'sub_1TbfwAcme0001_oo2');
      // The subscription names its customer only by id: it waits for customer.created.
      const created = await handle(fixture('customer.subscription.created', '_oo2'));
      assert.equal(created.outcome, 'waiting');
      assert.equal(created.waiting_for, 'cus_TbfwAcme0001_oo2');
      assert.equal(await findSubscriptionByProviderId(h.db, 'sub_1TbfwAcme0001_oo2'), undefined);

      const customer = await handle(fixture('customer.created', '_oo2', { cus_TbfwAcme0002: 'cus_TbfwAcme0001_oo2' }));
      assert.equal(customer.outcome, 'recorded');
      const sub = await findSubscriptionByProviderId(h.db, 'sub_1TbfwAcme0001_oo2');
      assert.equal(sub?.status, 'cancelled');
      const rows = await listStripeEvents(h.db, { objectId: 'sub_1TbfwAcme0001_oo2' });
      assert.deepEqual(rows.map((r) => [r.type, r.outcome, r.run_type]).sort(), [
        ['customer.subscription.created', 'started', 'subscription_creation'],
        ['customer.subscription.deleted', 'started', 'subscription_cancellation'],
      ]);
    });

    it('lets an operator replay a waiting event once what it needs exists by another path', async () => {
      const refund = await handle(fixture('refund.created', '_oo3'));
      assert.equal(refund.outcome, 'waiting');
      // The payment reaches Billflow some other way (the REST API), not as a Stripe event.
      const customer = await createCustomer(h.db, { email: 'ops@example.com' });
      await recordPayment(h.db, {
        customer_id: customer.id,
        amount: 4900,
        currency: 'EUR',
        status: 'succeeded',
        provider_reference: 'pi_3TbfwAcme0001_oo3',
      });
      const replayed = await replayStripeEvent(h.db, deps, refund.eventId);
      assert.equal(replayed.outcome, 'started');
      assert.equal((await findStripeEvent(h.db, refund.eventId))?.outcome, 'started');
    });
  });

  describe('what is already known here', () => {
    it('ignores Billflow-made objects and payments already recorded, starting nothing', async () => {
      const before = await runCount(h.db);
      const own = await handle(
        withObject(fixture('payment_intent.succeeded', '_k1'), { metadata: { billflow_key: 'run_x:retry_payment' } }),
      );
      assert.equal(own.outcome, 'ignored');
      assert.match(String(own.detail), /made by Billflow/);

      const customer = await createCustomer(h.db, { email: 'known@example.com', provider_customer_id: 'cus_k2' });
      const known = await recordPayment(h.db, {
        customer_id: customer.id,
        amount: 4900,
        currency: 'EUR',
        status: 'succeeded',
        provider_reference: 'pi_3TbfwAcme0001_k2',
      });
      const echo = await handle(fixture('charge.succeeded', '_k2', { cus_TbfwAcme0001_k2: 'cus_k2' }));
      assert.equal(echo.outcome, 'ignored');
      assert.equal(echo.record_id, known.id);
      assert.match(String(echo.detail), /already recorded/);
      assert.equal(await runCount(h.db), before);
    });

    it('ignores the deletion of a subscription cancelled here first', async () => {
      const toGrace = { cus_TbfwAcme0002: 'cus_TbfwAcme0001_k3' };
      await handle(fixture('customer.created', '_k3', toGrace));
      assert.equal((await handle(fixture('customer.subscription.created', '_k3'))).outcome, 'started');
      assert.equal((await handle(fixture('customer.subscription.deleted', '_k3'))).outcome, 'started');
      const cancellations = await runCount(h.db, 'subscription_cancellation');
      const again = await handle({ ...fixture('customer.subscription.deleted', '_k3'), id: 'evt_k3_second' });
      // A second event about the same object: the first one's run.
      assert.equal(again.outcome, 'duplicate');
      assert.equal(await runCount(h.db, 'subscription_cancellation'), cancellations);
    });
  });

  describe('customers', () => {
    it('finds a guest payment its customer by email, and refuses one with neither customer nor email', async () => {
      const existing = await createCustomer(h.db, { email: 'Guest@Example.com' });
      const guest = await handle(
        withObject(fixture('payment_intent.succeeded', '_c1'), { customer: null, receipt_email: 'guest@example.com' }),
      );
      assert.equal(guest.outcome, 'started');
      assert.equal(guest.customer_id, existing.id);

      const nobody = await handle(
        withObject(fixture('payment_intent.succeeded', '_c2'), { customer: null, receipt_email: null }),
      );
      assert.equal(nobody.outcome, 'rejected');
      assert.match(String(nobody.error), /no Stripe customer and no email/);
    });

    it('creates an unknown customer from the charge billing details, once, for events handled at once', async () => {
      const events = [
        fixture('charge.succeeded', '_c3'),
        fixture('payment_intent.succeeded', '_c3'),
        fixture('charge.succeeded', '_c3'),
        fixture('invoice.payment_succeeded', '_c3'),
      ];
      const before = await runCount(h.db, 'payment_success');
      const results = await Promise.all(events.map((e) => handle(e)));
      assert.equal(await runCount(h.db, 'payment_success'), before + 1);
      assert.equal(new Set(results.map((r) => r.run_id)).size, 1);
      const customer = await findCustomerByProviderId(h.db, 'cus_TbfwAcme0001_c3');
      assert.equal(customer?.email, 'ada@example.com');
      assert.equal(customer?.name, 'Ada Lovelace');
      const { rows } = await h.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM customers WHERE provider_customer_id = 'cus_TbfwAcme0001_c3'`,
      );
      assert.equal(rows[0]?.n, 1);
      // The ledger keeps `started` on the event that started the run, even if handled twice at once.
      const charge = await findStripeEvent(h.db, 'evt_1Q0005Bfwchargesucc_c3');
      assert.equal(charge?.deliveries, 2);
    });
  });

  describe('prices', () => {
    it('creates a plan for a price it has not seen, and reuses it', async () => {
      await handle(fixture('customer.created', '_p1', { cus_TbfwAcme0002: 'cus_TbfwAcme0001_p1' }));
      const first = await handle(fixture('customer.subscription.created', '_p1'));
      assert.equal(first.outcome, 'started');
      assert.match(String(first.detail), /plan price_1PgafmB7WZ01zgkW6dKueIc5_p1 created from the price/);
      const second = await handle({
        ...fixture('customer.subscription.created', '_p1', { sub_1TbfwAcme0001_p1: 'sub_p1_second' }),
        id: 'evt_p1_second',
      });
      assert.equal(second.outcome, 'started');
      assert.notEqual(second.run_id, first.run_id);
      assert.doesNotMatch(String(second.detail), /created from the price/);
    });

    it('refuses, saying why, a price that a plan made here contradicts or that no plan can express', async () => {
      await createPlan(h.db, {
        code: 'price_1PgafmB7WZ01zgkW6dKueIc5_p2',
        name: 'Hand-made',
        amount: 999,
        currency: 'USD',
        interval: 'month',
      });
      await handle(fixture('customer.created', '_p2', { cus_TbfwAcme0002: 'cus_TbfwAcme0001_p2' }));
      const contradicted = await handle(fixture('customer.subscription.created', '_p2'));
      assert.equal(contradicted.outcome, 'rejected');
      assert.match(String(contradicted.error), /is 999 USD per month, but Stripe price .* is 2000 USD per month/);

      const base = fixture('customer.subscription.created', '_p3');
      const items = base.data.object.items as { data: { price: Record<string, unknown> }[] };
      const item = items.data[0] as { price: Record<string, unknown> };
      const quarterly = withObject(base, {
        items: { data: [{ ...item, price: { ...item.price, recurring: { interval: 'month', interval_count: 3 } } }] },
      });
      const refused = await handle(quarterly);
      assert.equal(refused.outcome, 'rejected');
      assert.match(String((await findStripeEvent(h.db, base.id))?.error), /every 3 months/);
      assert.equal(await findSubscriptionByProviderId(h.db, 'sub_1TbfwAcme0001_p3'), undefined);
    });
  });

  describe('faults', () => {
    it('records a transient failure as failed (to be answered 5xx) and handles the redelivery', async () => {
      const runsBefore = await runCount(h.db);
      await h.db.query('ALTER TABLE payments RENAME TO payments_away');
      let failed;
      try {
        failed = await handle(fixture('payment_intent.succeeded', '_f1'));
      } finally {
        await h.db.query('ALTER TABLE payments_away RENAME TO payments');
      }
      assert.equal(failed.outcome, 'failed');
      const row = await findStripeEvent(h.db, failed.eventId);
      assert.equal(row?.outcome, 'failed');
      assert.match(String(row?.error), /payments/);
      assert.equal(await runCount(h.db), runsBefore);

      const redelivered = await handle(fixture('payment_intent.succeeded', '_f1'));
      assert.equal(redelivered.outcome, 'started');
      assert.equal(redelivered.repeated, false);
      const after = await findStripeEvent(h.db, failed.eventId);
      assert.deepEqual([after?.outcome, after?.deliveries, after?.error], ['started', 2, null]);
    });
  });
});

describe('a run started by a webhook runs', () => {
  eachDatabase((kind) => {
    it('customer.subscription.created → subscription_creation completes, linked to the Stripe subscription', async () => {
      const h = await billingHarness(kind);
      const deps = { registry: h.registry, now: h.clock.now };
      await handleStripeEvent(
        h.db,
        deps,
        fixture('customer.created', '_e2s', { cus_TbfwAcme0002: 'cus_TbfwAcme0001_e2s' }),
      );
      const start = Math.floor(h.clock.now().getTime() / 1000);
      const handled = await handleStripeEvent(
        h.db,
        deps,
        withObject(fixture('customer.subscription.created', '_e2s'), { start_date: start, created: start }),
      );
      assert.equal(handled.outcome, 'started');
      const run = await h.settle(String(handled.run_id));
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      const sub = await findSubscriptionByProviderId(h.db, 'sub_1TbfwAcme0001_e2s');
      assert.equal(sub?.status, 'active');
      assert.ok(h.smtp.received.some((m) => m.to.includes('grace@example.com')));
    });

    it('refund.created → refund_creation records the refund Stripe made, refunding nothing itself', async () => {
      const h = await billingHarness(kind);
      const deps = { registry: h.registry, now: h.clock.now };
      const paid = await handleStripeEvent(h.db, deps, fixture('payment_intent.succeeded', '_e2r'));
      assert.equal((await h.settle(String(paid.run_id))).status, 'completed');
      const event = fixture('refund.created', '_e2r');
      const handled = await handleStripeEvent(h.db, deps, event);
      assert.equal(handled.outcome, 'started');
      const run = await h.settle(String(handled.run_id));
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      const executed = run.steps.find((s) => s.name === 'execute_provider_refund')?.output as Record<string, unknown>;
      assert.deepEqual(
        [executed.action, executed.reason, executed.provider_refund_id],
        ['none', `done at the provider (stripe event ${event.id})`, 're_3TbfwAcme0001_e2r'],
      );
      assert.deepEqual((run.input as { origin?: unknown }).origin, { provider: 'stripe', event_id: event.id });
      assert.equal(await runCount(h.db, 'refund_creation'), 1);
      const { rows } = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM provider_sandbox_refunds');
      assert.equal(rows[0]?.n, 0, 'nothing refunded by Billflow');
    });

    it('a hard decline reported by Stripe leaves retries and cancellations to Stripe', async () => {
      const h = await billingHarness(kind);
      const deps = { registry: h.registry, now: h.clock.now };
      const customer = await createCustomer(h.db, { email: 'ada@example.com', provider_customer_id: 'cus_e2d' });
      const plan = await createPlan(h.db, {
        code: 'e2d',
        name: 'E2D',
        amount: 4900,
        currency: 'EUR',
        interval: 'month',
      });
      const subscription = await createSubscription(h.db, { customer_id: customer.id, plan_code: plan.code });
      const event = withObject(fixture('charge.failed', '_e2d', { cus_TbfwAcme0001_e2d: 'cus_e2d' }), {
        outcome: { type: 'issuer_declined', reason: 'stolen_card' },
      });
      const handled = await handleStripeEvent(h.db, deps, event);
      assert.equal(handled.outcome, 'started');
      const run = await h.settle(String(handled.run_id));
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(run.outcome, 'not_retryable');
      assert.deepEqual(run.steps.find((s) => s.name === 'retry_payment')?.output, {
        outcome: 'not_retryable',
        attempts: [],
        reason: `done at the provider (stripe event ${event.id}): the provider retries it and reports what follows`,
      });
      assert.equal(run.steps.find((s) => s.name === 'cancel_subscriptions')?.status, 'skipped');
      assert.equal(await runCount(h.db, 'subscription_cancellation'), 0);
      const { rows } = await h.db.query<{ status: string }>('SELECT status FROM subscriptions WHERE id = $1', [
        subscription.id,
      ]);
      assert.equal(rows[0]?.status, 'active');
    });

    it('payment_intent.succeeded → payment_success completes, receipt mailed to the event customer', async () => {
      const h = await billingHarness(kind);
      const handled = await handleStripeEvent(
        h.db,
        { registry: h.registry, now: h.clock.now },
        fixture('payment_intent.succeeded', '_e2e'),
      );
      assert.equal(handled.outcome, 'started');
      const run = await h.settle(String(handled.run_id));
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      const mail = h.smtp.received.find((m) => m.to.includes('ada@example.com'));
      assert.ok(mail, 'the receipt reached the SMTP server');
      assert.ok(mail.mail.subject);
      assert.ok(mail.mail.attachments.some((a) => a.contentType === 'application/pdf'));
    });
  });
});
