// The Stripe event ledger API on both databases: filters and keyset pages, one event with its run,
// replay (developer and above, audited with its reason) checked by what it stored; and a
// subscription's periods.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { catchUpStripeEvents, handleStripeEvent } from '../../src/billing/inbound/index.ts';
import type { CatchUpDeps } from '../../src/billing/inbound/index.ts';
import { createMetrics } from '../../src/observability/index.ts';
import { createCustomer, createPlan, createSubscription, recordPayment } from '../../src/billing/records/index.ts';
import { billingRegistry } from '../../src/billing/workflows/index.ts';
import { createEmailTransport } from '../../src/notify/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { createStripeEventSource } from '../../src/providers/stripe-events.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { stripeEvent } from '../fixtures/stripe-events/events.ts';
import type { FixtureName, StripeEventJson } from '../fixtures/stripe-events/events.ts';
import { parseMetrics, valueOf } from '../observability/support.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';
import { apiHarness, problemOf } from './support.ts';
import type { Harness } from './support.ts';

function fixture(name: FixtureName, tag: string): StripeEventJson {
  const ids = ['pi_3TbfwAcme0001', 'ch_3TbfwAcme0001', 're_3TbfwAcme0001', 'cus_TbfwAcme0001', 'cus_TbfwAcme0002'];
  const event = stripeEvent(name, Object.fromEntries(ids.map((id) => [id, `${id}${tag}`])));
  return { ...event, id: `${event.id}${tag}` };
}

interface EventPage {
  items: { id: string; type: string; outcome: string; received_via: string; run_id: string | null }[];
  next_cursor: string | null;
}

interface CatchUpView {
  last_run_at: string | null;
  listed_until: string | null;
  last_found: number;
  last_error: string | null;
  running: boolean;
  caught_up: number;
}

eachDatabase((kind) => {
  let h: Harness;
  let deps: Omit<CatchUpDeps, 'source'>;
  const ids: Record<string, string> = {};

  async function get(url: string, role: 'developer' | 'account_manager' = 'developer') {
    return h.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: await h.session(role) });
  }

  before(async () => {
    h = await apiHarness(kind);
    const notify = {
      email: createEmailTransport({ from: 'b@example.com' }),
      fetch: globalThis.fetch,
      clock: h.clock.now,
    };
    const provider = createSandboxProvider({ db: h.db, now: h.clock.now });
    deps = { registry: billingRegistry({ db: h.db, provider, notify }), now: h.clock.now };
    for (const name of ['customer.created', 'payment_intent.succeeded', 'refund.created'] as const) {
      h.clock.advance(60_000);
      const handled = await handleStripeEvent(h.db, deps, fixture(name, '_api'));
      ids[name] = handled.eventId;
    }
    // A refund of a payment Billflow never heard of: it waits.
    h.clock.advance(60_000);
    const waiting = await handleStripeEvent(
      h.db,
      deps,
      stripeEvent('refund.created', {
        pi_3TbfwAcme0001: 'pi_later',
        ch_3TbfwAcme0001: 'ch_later',
        re_3TbfwAcme0001: 're_later',
      }),
    );
    assert.equal(waiting.outcome, 'waiting');
    ids.waiting = waiting.eventId;
  });

  describe('GET /stripe-events', () => {
    it('lists newest first, filters by outcome and type, and pages without gaps or repeats', async () => {
      const all = (await get('/stripe-events')).json() as EventPage;
      assert.deepEqual(
        all.items.map((e) => e.id),
        [ids.waiting, ids['refund.created'], ids['payment_intent.succeeded'], ids['customer.created']],
      );
      assert.equal(all.next_cursor, null);
      assert.ok(all.items.every((e) => e.received_via === 'webhook'));

      const waiting = (await get('/stripe-events?outcome=waiting')).json() as EventPage;
      assert.deepEqual(
        waiting.items.map((e) => e.id),
        [ids.waiting],
      );
      const refunds = (await get('/stripe-events?type=refund.created')).json() as EventPage;
      assert.equal(refunds.items.length, 2);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(`/stripe-events?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(res.statusCode, 200, res.body);
        const page = res.json() as EventPage;
        seen.push(...page.items.map((e) => e.id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepEqual(
        seen,
        all.items.map((e) => e.id),
      );
    });

    it('refuses bad filters and cursors by name', async () => {
      for (const [query, field] of [
        ['outcome=lost', 'outcome'],
        ['type=DROP%20TABLE', 'type'],
        ['cursor=nope', 'cursor'],
        ['limit=0', 'limit'],
      ]) {
        const res = await get(`/stripe-events?${query}`);
        assert.equal(res.statusCode, 400, query);
        assert.match(JSON.stringify(problemOf(res)), new RegExp(field as string), query);
      }
    });
  });

  describe('GET /stripe-events/{id}', () => {
    it('shows the event, its payload and the run it started; 404 for one not in the ledger', async () => {
      const res = await get(`/stripe-events/${ids['payment_intent.succeeded']}`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as {
        event: { outcome: string; run_id: string; run_type: string };
        payload: { id: string };
        runs: { id: string; type: string }[];
      };
      assert.equal(body.event.outcome, 'started');
      assert.equal(body.payload.id, ids['payment_intent.succeeded']);
      assert.deepEqual(
        body.runs.map((r) => [r.id, r.type]),
        [[body.event.run_id, 'payment_success']],
      );
      assert.equal((await get('/stripe-events/evt_unknown')).statusCode, 404);
    });
  });

  describe('POST /stripe-events/{id}/replay', () => {
    it('handles a waiting event again once its payment is known: one run, audited with the reason', async () => {
      const url = `/api/v1/stripe-events/${ids.waiting}/replay`;
      const auditCount = async () =>
        (
          await h.db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM audit_log WHERE action = 'stripe_event.replay'",
          )
        ).rows[0]?.n;
      // Not for account managers; a reason is required; nothing changes either way.
      const refused = await h.app.inject({
        method: 'POST',
        url,
        headers: await h.session('account_manager'),
        payload: { reason: 'try' },
      });
      assert.equal(refused.statusCode, 403);
      const noReason = await h.app.inject({ method: 'POST', url, headers: await h.session('developer'), payload: {} });
      assert.equal(noReason.statusCode, 400);
      assert.match(JSON.stringify(problemOf(noReason)), /reason/);
      const wrongType = await h.app.inject({
        method: 'POST',
        url,
        headers: await h.session('developer'),
        payload: { reason: 42 },
      });
      assert.equal(wrongType.statusCode, 400);
      assert.equal(await auditCount(), 0);

      // Still waiting: replaying changes nothing but is recorded.
      const early = await h.app.inject({
        method: 'POST',
        url,
        headers: await h.session('developer'),
        payload: { reason: 'checking' },
      });
      assert.equal(early.statusCode, 200, early.body);
      assert.equal((early.json() as { event: { outcome: string } }).event.outcome, 'waiting');

      const customer = await createCustomer(h.db, { email: 'later@example.com' });
      await recordPayment(h.db, {
        customer_id: customer.id,
        amount: 4900,
        currency: 'EUR',
        status: 'succeeded',
        provider_reference: 'pi_later',
      });
      const res = await h.app.inject({
        method: 'POST',
        url,
        headers: await h.session('developer'),
        payload: { reason: 'payment imported by hand' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { previous_outcome: string; event: { outcome: string; run_id: string } };
      assert.equal(body.previous_outcome, 'waiting');
      assert.equal(body.event.outcome, 'started');
      const stored = await h.db.query<{ outcome: string; run_id: string }>(
        'SELECT outcome, run_id FROM stripe_events WHERE id = $1',
        [ids.waiting],
      );
      assert.deepEqual(stored.rows[0], { outcome: 'started', run_id: body.event.run_id });
      const runs = await h.db.query<{ type: string }>('SELECT type FROM workflow_runs WHERE id = $1', [
        body.event.run_id,
      ]);
      assert.deepEqual(runs.rows, [{ type: 'refund_creation' }]);
      const audit = await h.db.query<{ actor: string; target: string; reason: string; details: { outcome: string } }>(
        "SELECT actor, target, reason, details FROM audit_log WHERE action = 'stripe_event.replay' ORDER BY at, id",
      );
      assert.equal(audit.rows.length, 2);
      assert.deepEqual(audit.rows[1] && { ...audit.rows[1], details: audit.rows[1].details.outcome }, {
        actor: `user:${h.users.developer.id}`,
        target: ids.waiting,
        reason: 'payment imported by hand',
        details: 'started',
      });

      // Again: the run exists, so no other starts.
      const again = await h.app.inject({
        method: 'POST',
        url,
        headers: h.apiKey('admin'),
        payload: { reason: 'again' },
      });
      assert.equal(again.statusCode, 200, again.body);
      const count = await h.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM workflow_runs WHERE type = 'refund_creation'",
      );
      assert.equal(count.rows[0]?.n, 2);
      const unknown = await h.app.inject({
        method: 'POST',
        url: '/api/v1/stripe-events/evt_nothing/replay',
        headers: await h.session('developer'),
        payload: { reason: 'x' },
      });
      assert.equal(unknown.statusCode, 404);
    });
  });

  describe('GET /stripe-events/catch-up', () => {
    it('shows the last pass, its cursor, what it found and its error, also as metrics', async () => {
      const metrics = createMetrics({ db: h.db, cacheMs: 0, processMetrics: false });
      const gauge = async (name: string) => valueOf(parseMetrics((await metrics.render()).body), name);
      const status = async () => {
        const res = await get('/stripe-events/catch-up');
        assert.equal(res.statusCode, 200, res.body);
        return res.json() as CatchUpView;
      };
      assert.deepEqual(await status(), {
        last_run_at: null,
        listed_until: null,
        last_found: 0,
        last_error: null,
        running: false,
        caught_up: 0,
      });
      assert.equal(await gauge('billflow_stripe_catch_up_last_run_timestamp_seconds'), 0);
      assert.equal((await get('/stripe-events/catch-up', 'account_manager')).statusCode, 403);

      // Stripe kept an event whose delivery never came: a pass finds it.
      const stand = await startStripeStandIn();
      stand.useClock(h.clock.now);
      h.clock.advance(60_000);
      const lost = stand.events.emit('customer.created', {
        id: 'cus_caughtup0001',
        object: 'customer',
        email: 'caught@example.com',
        name: 'Caught',
        metadata: {},
      });
      const source = createStripeEventSource({ secretKey: stand.secretKey, apiBase: stand.url });
      h.clock.advance(60_000);
      const pass = await catchUpStripeEvents(h.db, { ...deps, source });
      assert.deepEqual(
        pass.handled.map((e) => [e.eventId, e.outcome]),
        [[lost.id, 'recorded']],
      );
      const found = await status();
      assert.deepEqual(found, {
        last_run_at: h.clock.now().toISOString(),
        listed_until: new Date(lost.created * 1000).toISOString(),
        last_found: 1,
        last_error: null,
        running: false,
        caught_up: 1,
      });
      assert.equal(
        await gauge('billflow_stripe_catch_up_last_run_timestamp_seconds'),
        Math.floor(h.clock.now().getTime() / 1000),
      );
      assert.equal(await gauge('billflow_stripe_catch_up_last_found'), 1);
      assert.equal(await gauge('billflow_stripe_catch_up_failing'), 0);

      // Stripe refuses the listing (a revoked key): the error is kept, the cursor stays.
      h.clock.advance(60_000);
      stand.failNext(10, { kind: 'status', status: 401 }, { path: '/v1/events' });
      await assert.rejects(catchUpStripeEvents(h.db, { ...deps, source }));
      stand.clearFaults();
      const failing = await status();
      assert.equal(failing.last_run_at, h.clock.now().toISOString());
      assert.equal(failing.listed_until, found.listed_until);
      assert.equal(failing.last_found, 0);
      assert.ok(failing.last_error && failing.last_error.length > 0, JSON.stringify(failing));
      assert.equal(failing.caught_up, 1);
      assert.equal(await gauge('billflow_stripe_catch_up_failing'), 1);
      // What was stored is what the API shows.
      const { rows } = await h.db.query<{ last_error: string | null; last_found: number }>(
        'SELECT last_error, last_found FROM stripe_catch_up',
      );
      assert.deepEqual(rows[0], { last_error: failing.last_error, last_found: 0 });
    });
  });

  describe('GET /subscriptions/{id}/periods', () => {
    it('lists the first period of a new subscription with its creation run slot', async () => {
      const customer = await createCustomer(h.db, { email: 'periods@example.com' });
      const plan = await createPlan(h.db, {
        code: 'p-api',
        name: 'P',
        amount: 1500,
        currency: 'EUR',
        interval: 'month',
      });
      const sub = await createSubscription(h.db, { customer_id: customer.id, plan_code: plan.code });
      const res = await get(`/subscriptions/${sub.id}/periods`, 'account_manager');
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { items: { kind: string; current: boolean; amount: number; invoice: unknown }[] };
      assert.deepEqual(
        body.items.map((p) => [p.kind, p.current, p.amount, p.invoice]),
        [['initial', true, 1500, null]],
      );
      assert.equal((await get('/subscriptions/sub_nothing/periods')).statusCode, 404);
    });
  });
});
