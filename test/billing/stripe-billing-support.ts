// Shared by the Stripe Billing tests: a Billflow harness on a database with Stripe as its provider
// (the stand-in), Stripe's webhook deliveries with BILLFLOW_CALENDAR_OWNER=stripe, and a dashboard client.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import Stripe from 'stripe';
import type { DatabaseKind, Db } from '../../src/db/types.ts';
import type { CatchUpDeps } from '../../src/billing/inbound/index.ts';
import { createStripeEventSource } from '../../src/providers/stripe-events.ts';
import { createStripeProvider } from '../../src/providers/stripe.ts';
import { clientConfig } from '../../src/providers/stripe.ts';
import { stripeWebhookRoutes } from '../../src/http/stripe-webhook.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';
import type { StripeStandIn } from '../helpers/stripe-stand-in.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';

const SECRET = 'whsec_test_billflow_stripe_billing_0123';
export const DAY = 86_400_000;

export interface Setup {
  h: BillingHarness;
  stand: StripeStandIn;
  dashboard: Stripe;
  deps: CatchUpDeps;
}

export async function setUp(kind: DatabaseKind): Promise<Setup> {
  const stand = await startStripeStandIn();
  const h = await billingHarness(kind, {
    provider: (_db, now) => createStripeProvider({ secretKey: stand.secretKey, apiBase: stand.url, now }),
    emailTimeouts: { connectionTimeoutMs: 15_000, greetingTimeoutMs: 15_000, socketTimeoutMs: 30_000 },
  });
  stand.useClock(h.clock.now);
  const app = Fastify();
  await app.register(stripeWebhookRoutes, {
    db: h.db,
    registry: h.registry,
    webhookSecret: SECRET,
    now: h.clock.now,
    calendarOwner: 'stripe',
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  after(() => app.close());
  stand.events.deliverTo(`${url}/webhooks/stripe`, SECRET);
  const dashboard = new Stripe(stand.secretKey, clientConfig({ secretKey: stand.secretKey, apiBase: stand.url }));
  const deps: CatchUpDeps = {
    registry: h.registry,
    now: h.clock.now,
    calendarOwner: 'stripe',
    source: createStripeEventSource({ secretKey: stand.secretKey, apiBase: stand.url }),
  };
  return { h, stand, dashboard, deps };
}

export async function one<T>(db: Db, sql: string, params: unknown[]): Promise<T> {
  const { rows } = await db.query<T & object>(sql, params);
  assert.equal(rows.length, 1, `${sql} ${JSON.stringify(params)} → ${rows.length} rows`);
  return rows[0] as T;
}

/** A customer subscribed at Stripe (its events delivered): its Stripe subscription id. */
export async function subscribeAtStripe({ stand, dashboard }: Setup, email: string, card: string): Promise<string> {
  const customer = await dashboard.customers.create({ email, name: email.split('@')[0] });
  const price = await dashboard.prices.create({
    currency: 'eur',
    unit_amount: 2900,
    recurring: { interval: 'month' },
    product_data: { name: 'Pro' },
  });
  const sub = await dashboard.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
    default_payment_method: card,
  });
  await stand.events.settled();
  return sub.id;
}

/** `type:outcome` of each event in the ledger, in the order given. */
export async function outcomes(db: Db, eventIds: string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string; type: string; outcome: string }>(
    'SELECT id, type, outcome FROM stripe_events WHERE id = ANY($1::text[])',
    [eventIds],
  );
  const byId = new Map(rows.map((r) => [r.id, `${r.type}:${r.outcome}`]));
  return eventIds.map((id) => byId.get(id) ?? `${id}:missing`);
}
