// Never miss a Stripe event, on both databases and a test clock: deliveries stop for a while
// (Stripe keeps the events, the endpoint never gets them), then the catch-up lists them from the
// stand-in's Events API and starts every missed workflow once; waiting events are swept.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import Stripe from 'stripe';
import type { DatabaseKind, Db } from '../../src/db/types.ts';
import { createCustomer, recordPayment } from '../../src/billing/records/index.ts';
import {
  catchUpStripeEvents,
  findStripeEvent,
  handleStripeEvent,
  sweepWaitingStripeEvents,
} from '../../src/billing/inbound/index.ts';
import type { CatchUpDeps } from '../../src/billing/inbound/index.ts';
import { startMaintenance } from '../../src/billing/maintenance.ts';
import { createStripeEventSource } from '../../src/providers/stripe-events.ts';
import { createStripeProvider } from '../../src/providers/stripe.ts';
import { clientConfig } from '../../src/providers/stripe.ts';
import { stripeWebhookRoutes } from '../../src/http/stripe-webhook.ts';
import { TEST_DATABASES, eachDatabase } from '../helpers/databases.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';
import type { StripeStandIn } from '../helpers/stripe-stand-in.ts';
import { stripeEvent } from '../fixtures/stripe-events/events.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';

const SECRET = 'whsec_test_billflow_catch_up_0123456789';
const HOUR = 3_600_000;

async function runsByType(db: Db): Promise<Record<string, number>> {
  const { rows } = await db.query<{ type: string; n: number }>(
    'SELECT type, count(*)::int AS n FROM workflow_runs GROUP BY type ORDER BY type',
  );
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}

async function ledger(db: Db, ids: string[]) {
  const { rows } = await db.query<{
    id: string;
    type: string;
    outcome: string;
    received_via: string;
    deliveries: number;
    run_id: string | null;
  }>('SELECT id, type, outcome, received_via, deliveries, run_id FROM stripe_events WHERE id = ANY($1::text[])', [ids]);
  return new Map(rows.map((r) => [r.id, r]));
}

async function one<T>(db: Db, sql: string, params: unknown[]): Promise<T> {
  const { rows } = await db.query<T & object>(sql, params);
  assert.equal(rows.length, 1, `${sql} ${JSON.stringify(params)} → ${rows.length} rows`);
  return rows[0] as T;
}

interface Setup {
  h: BillingHarness;
  stand: StripeStandIn;
  /** Someone working in the Stripe dashboard (or another integration): not Billflow. */
  dashboard: Stripe;
  deps: CatchUpDeps;
}

/** Billflow with Stripe as its provider and its webhook endpoint listening, on one database. */
async function setUp(kind: DatabaseKind): Promise<Setup> {
  const stand = await startStripeStandIn();
  const h = await billingHarness(kind, {
    provider: (_db, now) => createStripeProvider({ secretKey: stand.secretKey, apiBase: stand.url, now }),
    // The runs are settled here: mail must arrive even on a busy machine.
    emailTimeouts: { connectionTimeoutMs: 15_000, greetingTimeoutMs: 15_000, socketTimeoutMs: 30_000 },
  });
  stand.useClock(h.clock.now);
  const app = Fastify();
  await app.register(stripeWebhookRoutes, { db: h.db, registry: h.registry, webhookSecret: SECRET, now: h.clock.now });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  after(() => app.close());
  stand.events.deliverTo(`${url}/webhooks/stripe`, SECRET);
  const dashboard = new Stripe(stand.secretKey, clientConfig({ secretKey: stand.secretKey, apiBase: stand.url }));
  const deps: CatchUpDeps = {
    registry: h.registry,
    now: h.clock.now,
    source: createStripeEventSource({ secretKey: stand.secretKey, apiBase: stand.url }),
    // Small pages so that the catch-up walks several of them.
    pageSize: 2,
  };
  return { h, stand, dashboard, deps };
}

// Set up when the file starts: what they start is stopped when the file ends.
const setups = new Map<DatabaseKind, Setup>();
for (const kind of TEST_DATABASES) setups.set(kind, await setUp(kind));

eachDatabase((kind) => {
  const { h, stand, dashboard, deps } = setups.get(kind) as Setup;

  async function pay(customer: string, amount: number, card: string): Promise<string> {
    try {
      const pi = await dashboard.paymentIntents.create({
        amount,
        currency: 'eur',
        customer,
        payment_method: card,
        confirm: true,
      });
      return pi.id;
    } catch (error) {
      // A decline: the PaymentIntent is in the error, and Stripe emitted payment_failed.
      const pi = (error as { raw?: { payment_intent?: { id: string } } }).raw?.payment_intent;
      if (!pi) throw error;
      return pi.id;
    }
  }

  it('starts every workflow whose delivery was lost, once, and redeliveries change nothing', async () => {
    // Delivered as usual: a customer and a payment made at Stripe.
    const alice = await dashboard.customers.create({ email: 'alice@example.com', name: 'Alice' });
    const alicePaid = await pay(alice.id, 4900, 'pm_card_visa');
    await stand.events.settled();
    assert.deepEqual(
      stand.events.deliveries.map((d) => d.status),
      [200, 200],
    );
    // The first pass starts from the newest recorded event: all known, nothing to do.
    const first = await catchUpStripeEvents(h.db, deps);
    assert.equal(first.ran, true);
    assert.deepEqual(first.handled, []);
    const runsBefore = await runsByType(h.db);
    assert.deepEqual(runsBefore, { payment_success: 1 });

    // The endpoint is down for two days: Stripe keeps the events, none arrives.
    stand.events.stop();
    const emittedBefore = stand.events.all.length;
    h.clock.advance(5 * HOUR);
    const bob = await dashboard.customers.create({ email: 'bob@example.com', name: 'Bob' });
    h.clock.advance(HOUR);
    const bobPaid = await pay(bob.id, 2500, 'pm_card_visa');
    h.clock.advance(HOUR);
    const refund = await dashboard.refunds.create({ payment_intent: alicePaid, amount: 900 });
    h.clock.advance(20 * HOUR);
    const price = await dashboard.prices.create({
      currency: 'eur',
      unit_amount: 1900,
      recurring: { interval: 'month' },
      product_data: { name: 'Team' },
      nickname: 'Team monthly',
    });
    const subscription = await dashboard.subscriptions.create({ customer: bob.id, items: [{ price: price.id }] });
    h.clock.advance(HOUR);
    const declined = await pay(alice.id, 4900, 'pm_card_chargeDeclinedInsufficientFunds');
    const missed = stand.events.all.slice(emittedBefore).map((e) => e.id);
    assert.equal(missed.length, 5);
    // Back up: the next event is delivered live and becomes the ledger's newest.
    h.clock.advance(20 * HOUR);
    stand.events.resume();
    const carol = await dashboard.customers.create({ email: 'carol@example.com' });
    await stand.events.settled();
    assert.equal(stand.events.deliveries.length, 3);
    assert.equal((await ledger(h.db, missed)).size, 0);
    assert.deepEqual(await runsByType(h.db), runsBefore);

    const caught = await catchUpStripeEvents(h.db, deps);
    assert.deepEqual(
      caught.handled.map((e) => [e.eventId, e.type, e.outcome]),
      [
        [missed[0], 'customer.created', 'recorded'],
        [missed[1], 'payment_intent.succeeded', 'started'],
        [missed[2], 'refund.created', 'started'],
        [missed[3], 'customer.subscription.created', 'started'],
        [missed[4], 'payment_intent.payment_failed', 'started'],
      ],
    );
    // Several list pages were walked (2 events each), Stripe's own `created[gt]` and paging.
    const lists = stand.handled('GET', '/v1/events');
    assert.ok(lists.length >= 4, `listed in ${lists.length} requests`);
    assert.ok(lists.some((r) => typeof r.params.starting_after === 'string'));

    const rows = await ledger(h.db, missed);
    for (const id of missed) {
      assert.equal(rows.get(id)?.received_via, 'catch_up', id);
      assert.equal(rows.get(id)?.deliveries, 1, id);
    }
    assert.deepEqual(await runsByType(h.db), {
      payment_failure: 1,
      payment_success: 2,
      refund_creation: 1,
      subscription_creation: 1,
    });
    // The records, each with its run, as a delivered event would have made them.
    const bobHere = await one<{ id: string; email: string }>(
      h.db,
      'SELECT id, email FROM customers WHERE provider_customer_id = $1',
      [bob.id],
    );
    assert.equal(bobHere.email, 'bob@example.com');
    const payment = await one<{ id: string; amount: string; status: string; customer_id: string }>(
      h.db,
      'SELECT id, amount::text, status, customer_id FROM payments WHERE provider_reference = $1',
      [bobPaid],
    );
    assert.deepEqual(payment, { id: payment.id, amount: '2500', status: 'succeeded', customer_id: bobHere.id });
    const failed = await one<{ status: string; failure_code: string }>(
      h.db,
      'SELECT status, failure_code FROM payments WHERE provider_reference LIKE $1',
      ['ch_%'],
    );
    assert.deepEqual(failed, { status: 'failed', failure_code: 'insufficient_funds' });
    const refundRow = await one<{ amount: string }>(
      h.db,
      'SELECT amount::text FROM refunds WHERE provider_reference = $1',
      [refund.id],
    );
    assert.equal(refundRow.amount, '900');
    const sub = await one<{ customer_id: string }>(
      h.db,
      'SELECT customer_id FROM subscriptions WHERE provider_subscription_id = $1',
      [subscription.id],
    );
    assert.equal(sub.customer_id, bobHere.id);
    for (const id of missed.slice(1, 4)) {
      const run = await h.settle(rows.get(id)?.run_id as string);
      assert.equal(run.status, 'completed', `${id}: ${run.status} at ${run.current_step}`);
    }
    assert.ok(declined.startsWith('pi_'));
    assert.equal((await findStripeEvent(h.db, stand.events.all.at(-1)?.id as string))?.received_via, 'webhook');
    assert.ok(carol.id);

    // Nothing twice: another pass, and Stripe delivering the lost events after all.
    const again = await catchUpStripeEvents(h.db, deps);
    assert.deepEqual(again.handled, []);
    for (const id of missed) {
      const delivery = await stand.events.redeliver(id);
      assert.equal(delivery.status, 200);
    }
    assert.deepEqual(await runsByType(h.db), {
      payment_failure: 1,
      payment_success: 2,
      refund_creation: 1,
      subscription_creation: 1,
    });
    const after = await ledger(h.db, missed);
    for (const id of missed) assert.equal(after.get(id)?.deliveries, 2, id);
  });

  it('lists a backlog longer than one pass takes in older windows first, each event once', async () => {
    const dave = await dashboard.customers.create({ email: 'dave@example.com' });
    await stand.events.settled();
    await catchUpStripeEvents(h.db, deps);
    stand.events.stop();
    const from = stand.events.all.length;
    for (let i = 0; i < 7; i++) {
      h.clock.advance(HOUR);
      await pay(dave.id, 100 + i, 'pm_card_visa');
    }
    const missed = stand.events.all.slice(from).map((e) => e.id);
    stand.events.resume();
    const before = (await runsByType(h.db)).payment_success ?? 0;
    const seen: string[] = [];
    for (let pass = 0; pass < 6 && seen.length < missed.length; pass++) {
      const result = await catchUpStripeEvents(h.db, { ...deps, maxEvents: 3 });
      assert.ok(result.handled.length <= 3, `pass ${pass} handled ${result.handled.length}`);
      seen.push(...result.handled.map((e) => e.eventId));
    }
    // Oldest first across passes, none twice.
    assert.deepEqual(seen, missed);
    assert.equal((await runsByType(h.db)).payment_success, before + 7);
  });

  it('sweeps waiting events: a refund whose payment came by the REST API starts its run', async () => {
    const event = stripeEvent('refund.created', {
      pi_3TbfwAcme0001: 'pi_sweep1',
      ch_3TbfwAcme0001: 'ch_sweep1',
      re_3TbfwAcme0001: 're_sweep1',
    });
    event.id = 'evt_sweep1';
    const parked = await handleStripeEvent(h.db, deps, event);
    assert.equal(parked.outcome, 'waiting');
    const customer = await createCustomer(h.db, { email: 'sweep@example.com' });
    await recordPayment(h.db, {
      customer_id: customer.id,
      amount: 4900,
      currency: 'EUR',
      status: 'succeeded',
      provider_reference: 'pi_sweep1',
    });
    // Looked at a moment ago: not yet again.
    assert.deepEqual(await sweepWaitingStripeEvents(h.db, deps), { examined: 0, released: [] });
    h.clock.advance(2 * 60_000);
    const swept = await sweepWaitingStripeEvents(h.db, deps);
    assert.deepEqual(swept.released, ['evt_sweep1']);
    const row = await findStripeEvent(h.db, 'evt_sweep1');
    assert.equal(row?.outcome, 'started');
    assert.equal(row?.run_type, 'refund_creation');
    const refunds = await h.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM refunds WHERE provider_reference = 're_sweep1'",
    );
    assert.equal(refunds.rows[0]?.n, 1);
    h.clock.advance(2 * 60_000);
    assert.deepEqual(await sweepWaitingStripeEvents(h.db, deps), { examined: 0, released: [] });
  });

  describe('the maintenance loop', () => {
    it('catches up at start, without waiting an interval', async () => {
      await catchUpStripeEvents(h.db, deps);
      stand.events.stop();
      const lost = await dashboard.customers.create({ email: 'erin@example.com' });
      stand.events.resume();
      const maintenance = startMaintenance(h.db, {
        alerts: h.notify,
        intervalMs: 3_600_000,
        logger: { warn: (obj) => assert.fail(JSON.stringify(obj)) },
        stripeEvents: { registry: h.registry, source: deps.source },
      });
      await maintenance.stop();
      const row = await one<{ outcome: string; received_via: string }>(
        h.db,
        'SELECT outcome, received_via FROM stripe_events WHERE object_id = $1',
        [lost.id],
      );
      assert.deepEqual(row, { outcome: 'recorded', received_via: 'catch_up' });
    });
  });
});
