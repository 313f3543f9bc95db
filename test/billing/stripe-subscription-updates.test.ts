// Stripe Billing owns the calendar (BILLFLOW_CALENDAR_OWNER=stripe), on both databases: Stripe's
// customer.subscription.updated moves our subscription's period forward (never back, once however
// often it is delivered), shows in its periods list, and carries a cancellation at period end.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DatabaseKind } from '../../src/db/types.ts';
import { handleStripeEvent } from '../../src/billing/inbound/index.ts';
import { listSubscriptionPeriods } from '../../src/billing/calendar/index.ts';
import { TEST_DATABASES, eachDatabase } from '../helpers/databases.ts';
import { BASIL } from '../helpers/stripe-stand-in.ts';
import { DAY, one, outcomes, setUp, subscribeAtStripe } from './stripe-billing-support.ts';
import type { Setup } from './stripe-billing-support.ts';

const setups = new Map<DatabaseKind, Setup>();
for (const kind of TEST_DATABASES) setups.set(kind, await setUp(kind));

eachDatabase((kind) => {
  const setup = setups.get(kind) as Setup;
  const { h, stand } = setup;

  for (const version of ['2024-06-20', BASIL]) {
    describe(`API version ${version}`, () => {
      it('customer.subscription.updated moves the period forward once, never back, and the periods list shows it', async () => {
        stand.useApiVersion(version);
        const subId = await subscribeAtStripe(setup, `period-${version.slice(0, 4)}@example.com`, 'pm_card_visa');
        const created = stand.events.all.findLast((e) => e.type === 'customer.subscription.created');
        assert.ok(created);
        h.clock.advance(30 * DAY);
        const first = stand.events.all.length;
        const cycle = stand.renew(subId);
        await stand.events.settled();
        const update = stand.events.all.slice(first).find((e) => e.type === 'customer.subscription.updated');
        assert.ok(update);
        const item = stand.billing.subscriptions.get(subId)?.items.data[0];
        const period = [item?.current_period_start, item?.current_period_end].map((t) =>
          new Date(Number(t) * 1000).toISOString(),
        );
        const stored = async () => {
          const row = await one<{ id: string; status: string; s: Date; e: Date; updated_at: Date }>(
            h.db,
            `SELECT id, status, current_period_start AS s, current_period_end AS e, updated_at
             FROM subscriptions WHERE provider_subscription_id = $1`,
            [subId],
          );
          return { ...row, s: row.s.toISOString(), e: row.e.toISOString() };
        };
        const renewed = await stored();
        assert.deepEqual([renewed.status, renewed.s, renewed.e], ['active', ...period]);
        assert.deepEqual(await outcomes(h.db, [update.id]), ['customer.subscription.updated:recorded']);

        // Redelivered, and an older update (the period it was created with) handled late: nothing moves.
        assert.equal((await stand.events.redeliver(update.id)).status, 200);
        const stripe = { registry: h.registry, now: h.clock.now, calendarOwner: 'stripe' as const };
        const older = {
          ...created,
          id: `${update.id}_older`,
          type: 'customer.subscription.updated',
          created: update.created - 60,
        };
        assert.equal((await handleStripeEvent(h.db, stripe, older)).outcome, 'ignored');
        const stale = { ...older, id: `${update.id}_stale`, created: update.created + 60 };
        assert.equal((await handleStripeEvent(h.db, stripe, stale)).outcome, 'ignored');
        assert.deepEqual(await stored(), renewed);
        // One about a subscription not known here yet waits for its creation.
        const unknown = {
          ...update,
          id: `${update.id}_unknown`,
          data: { object: { ...update.data.object, id: `${subId}_x` } },
        };
        const waited = await handleStripeEvent(h.db, stripe, unknown);
        assert.deepEqual([waited.outcome, waited.waiting_for], ['waiting', `${subId}_x`]);
        const { rows: ledger } = await h.db.query<{ deliveries: number; outcome: string }>(
          'SELECT deliveries, outcome FROM stripe_events WHERE id = $1',
          [update.id],
        );
        assert.deepEqual(ledger, [{ deliveries: 2, outcome: 'recorded' }]);

        // What GET /api/v1/subscriptions/{id}/periods serves.
        const periods = await listSubscriptionPeriods(h.db, renewed.id);
        const invoice = await one<{ id: string }>(h.db, 'SELECT id FROM invoices WHERE provider_invoice_id = $1', [
          cycle.invoice.id,
        ]);
        assert.deepEqual(
          periods.map((p) => [
            p.kind,
            p.period_start.toISOString(),
            p.period_end.toISOString(),
            p.current,
            p.invoice?.id ?? null,
          ]),
          [
            ['renewal', ...period, true, invoice.id],
            ['initial', new Date(created.created * 1000).toISOString(), period[0], false, null],
          ],
        );
      });
    });
  }

  it("Stripe's cancel_at_period_end schedules the cancellation here, and its removal withdraws it; past_due is not copied", async () => {
    stand.useApiVersion(BASIL);
    const subId = await subscribeAtStripe(setup, 'cancel-at-end@example.com', 'pm_card_visa');
    h.clock.advance(30 * DAY);
    const first = stand.events.all.length;
    stand.renew(subId);
    await stand.events.settled();
    const update = stand.events.all.slice(first).find((e) => e.type === 'customer.subscription.updated');
    assert.ok(update);
    const stripe = { registry: h.registry, now: h.clock.now, calendarOwner: 'stripe' as const };
    const later = (n: number, fields: Record<string, unknown>) => ({
      ...update,
      id: `${update.id}_${n}`,
      created: update.created + n * 60,
      data: { object: { ...update.data.object, ...fields } },
    });
    const stored = () =>
      one<{ status: string; cancel_at: Date | null; e: Date }>(
        h.db,
        'SELECT status, cancel_at, current_period_end AS e FROM subscriptions WHERE provider_subscription_id = $1',
        [subId],
      );
    assert.equal((await handleStripeEvent(h.db, stripe, later(1, { cancel_at_period_end: true }))).outcome, 'recorded');
    const scheduled = await stored();
    assert.deepEqual(
      [scheduled.status, scheduled.cancel_at?.toISOString()],
      ['cancel_scheduled', scheduled.e.toISOString()],
    );
    const resumed = await handleStripeEvent(h.db, stripe, later(2, { cancel_at_period_end: false, cancel_at: null }));
    assert.equal(resumed.outcome, 'recorded');
    assert.deepEqual([(await stored()).status, (await stored()).cancel_at], ['active', null]);
    const pastDue = await handleStripeEvent(h.db, stripe, later(3, { status: 'past_due' }));
    assert.equal(pastDue.outcome, 'ignored');
    assert.match(pastDue.detail ?? '', /past_due not copied/);
    assert.equal((await stored()).status, 'active');
  });
});
