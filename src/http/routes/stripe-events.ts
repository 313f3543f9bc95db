// The Stripe event ledger: what Stripe sent (delivered or caught up) and what came of it, one
// event with the run it started, and replaying an event for developers.
import { Type } from 'typebox';
import { oneOf } from '../../billing/records/schemas.ts';
import {
  STRIPE_EVENT_OUTCOMES,
  catchUpStatus,
  pageStripeEvents,
  replayStripeEvent,
  stripeEventDetail,
} from '../../billing/inbound/index.ts';
import type { StripeEventRecord } from '../../billing/inbound/index.ts';
import { NotFoundError } from '../../errors.ts';
import type { ApiDeps } from '../deps.ts';
import { decodeCursor, toPage } from '../pagination.ts';
import { route } from '../route.ts';
import type { JsonSchema, RouteSpec } from '../route.ts';
import { nullableTimestamp, pageOf, pageQueryProperties, problemResponses, ReasonBody, timestamp } from '../schemas.ts';
import { runSummarySchema, runSummaryView, runViewer } from '../schemas/run.ts';
import { recordView } from '../schemas/billing.ts';

const TAGS = ['Stripe events'];
const nullableString = { type: ['string', 'null'] };

const eventIdParams = Type.Object(
  { id: Type.String({ pattern: '^evt_[A-Za-z0-9_]{1,250}$', maxLength: 255, examples: ['evt_0000000000000000'] }) },
  { additionalProperties: false },
);

export const stripeEventSchema: JsonSchema = {
  title: 'StripeEvent',
  type: 'object',
  required: ['id', 'type', 'outcome', 'created', 'received_at', 'deliveries', 'received_via'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', description: 'Stripe’s event type, e.g. payment_intent.succeeded.' },
    object_id: { ...nullableString, description: 'The Stripe object it is about (pi_…, re_…, sub_…).' },
    livemode: { type: 'boolean' },
    api_version: nullableString,
    created: { ...timestamp, description: 'When Stripe created it (Stripe’s clock).' },
    received_at: { ...timestamp, description: 'When Billflow first received it.' },
    last_received_at: timestamp,
    deliveries: { type: 'integer', description: 'Times it was received (redeliveries count).' },
    received_via: {
      type: 'string',
      enum: ['webhook', 'catch_up'],
      description: 'webhook: Stripe delivered it; catch_up: its delivery never came and the Events API listed it.',
    },
    outcome: { title: 'StripeEventOutcome', type: 'string', enum: [...STRIPE_EVENT_OUTCOMES] },
    detail: nullableString,
    waiting_for: { ...nullableString, description: 'For `waiting`: the Stripe object it needs first.' },
    run_id: { ...nullableString, description: 'The run it started (or found already started for its object).' },
    run_type: nullableString,
    record_id: nullableString,
    customer_id: nullableString,
    error: nullableString,
    handled_at: nullableTimestamp,
  },
};

function eventView(event: StripeEventRecord) {
  return recordView(event);
}

export function stripeEventRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  const routes: RouteSpec[] = [
    route({
      method: 'GET',
      url: '/stripe-events',
      operationId: 'listStripeEvents',
      access: 'developer',
      summary: 'The Stripe event ledger, newest received first (by type and outcome)',
      description:
        'Every verified event Stripe delivered, and every event the catch-up found through Stripe’s Events API ' +
        'whose delivery never came, with what Billflow did with it.',
      tags: TAGS,
      querystring: Type.Object(
        {
          type: Type.Optional(Type.String({ pattern: '^[a-z0-9_.]{1,100}$', examples: ['payment_intent.succeeded'] })),
          outcome: Type.Optional(oneOf(STRIPE_EVENT_OUTCOMES)),
          ...pageQueryProperties,
        },
        { additionalProperties: false },
      ),
      response: { 200: pageOf(stripeEventSchema), ...problemResponses() },
      async handler({ query }) {
        const limit = query.limit ?? 50;
        const after = decodeCursor(query.cursor, ['number', 'string']) as [number, string] | null;
        const rows = await pageStripeEvents(db, {
          type: query.type,
          outcome: query.outcome,
          limit: limit + 1,
          ...(after ? { after } : {}),
        });
        return {
          status: 200,
          body: toPage(
            rows,
            limit,
            (r) => [r.received_key, r.id],
            ({ received_key: _key, ...event }) => eventView(event),
          ),
        };
      },
    }),
    route({
      method: 'GET',
      url: '/stripe-events/catch-up',
      operationId: 'getStripeCatchUp',
      access: 'developer',
      summary: 'Where the catch-up through Stripe’s Events API stands',
      description:
        'The workers list Stripe’s events every minute and handle those whose delivery never came. ' +
        'Its last pass, its cursor, its last error and how many events in the ledger it found.',
      tags: TAGS,
      response: {
        200: {
          title: 'StripeCatchUp',
          type: 'object',
          required: ['last_run_at', 'listed_until', 'last_found', 'last_error', 'running', 'caught_up'],
          properties: {
            last_run_at: { ...nullableTimestamp, description: 'When the last pass ended; null when none ran.' },
            listed_until: {
              ...nullableTimestamp,
              description: 'The cursor: Stripe’s `created` of the newest event listed. The next pass lists from here.',
            },
            last_found: { type: 'integer', description: 'Events the last pass handled (the ledger lacked them).' },
            last_error: { ...nullableString, description: 'Why the last pass failed; null when it did not.' },
            running: { type: 'boolean', description: 'A pass is under way.' },
            caught_up: {
              type: 'integer',
              description: 'Events in the ledger that reached Billflow through the catch-up.',
            },
          },
        },
        ...problemResponses(),
      },
      async handler() {
        return { status: 200, body: recordView(await catchUpStatus(db)) };
      },
    }),
    route({
      method: 'GET',
      url: '/stripe-events/:id',
      operationId: 'getStripeEvent',
      access: 'developer',
      summary: 'One Stripe event: what Billflow did with it, the event as Stripe sent it, and its run',
      tags: TAGS,
      params: eventIdParams,
      response: {
        200: {
          title: 'StripeEventDetail',
          type: 'object',
          required: ['event', 'payload', 'runs'],
          properties: {
            event: stripeEventSchema,
            payload: { description: 'The event as Stripe sent it.' },
            runs: { type: 'array', items: runSummarySchema },
          },
        },
        ...problemResponses(),
      },
      async handler({ params, principal }) {
        const detail = await stripeEventDetail(db, params.id);
        if (!detail) throw new NotFoundError(`stripe event ${params.id} is not in the ledger`);
        const viewer = runViewer(principal);
        return {
          status: 200,
          body: {
            event: eventView(detail.event),
            payload: detail.payload,
            runs: detail.runs.map((r) => runSummaryView(r, viewer)),
          },
        };
      },
    }),
  ];
  const billing = deps.billing;
  if (!billing) return routes;
  routes.push(
    route({
      method: 'POST',
      url: '/stripe-events/:id/replay',
      operationId: 'replayStripeEvent',
      access: 'developer',
      summary: 'Handle a recorded Stripe event again, from its stored payload',
      description:
        'For an event that was rejected, failed or is waiting, once the cause is fixed (a plan created, a ' +
        'customer linked). Handling is idempotent per Stripe object: an event whose run exists finds that run ' +
        'and starts no other. Audited with the reason.',
      tags: TAGS,
      audit: 'stripe_event.replay',
      params: eventIdParams,
      body: ReasonBody,
      response: {
        200: {
          title: 'StripeEventReplay',
          type: 'object',
          required: ['previous_outcome', 'event'],
          properties: {
            previous_outcome: { type: 'string', enum: [...STRIPE_EVENT_OUTCOMES] },
            event: stripeEventSchema,
          },
        },
        ...problemResponses(),
      },
      async handler(ctx) {
        const before = await stripeEventDetail(db, ctx.params.id);
        if (!before) throw new NotFoundError(`stripe event ${ctx.params.id} is not in the ledger`);
        await replayStripeEvent(
          db,
          { registry: billing.registry, now: deps.clock, calendarOwner: billing.calendarOwner },
          ctx.params.id,
        );
        const after = await stripeEventDetail(db, ctx.params.id);
        if (!after) throw new NotFoundError(`stripe event ${ctx.params.id} is not in the ledger`);
        await ctx.audit(db, {
          target: ctx.params.id,
          reason: ctx.body.reason.trim(),
          details: {
            type: after.event.type,
            previous_outcome: before.event.outcome,
            outcome: after.event.outcome,
            run_id: after.event.run_id,
          },
        });
        return { status: 200, body: { previous_outcome: before.event.outcome, event: eventView(after.event) } };
      },
    }),
  );
  return routes;
}
