// POST /webhooks/stripe: Stripe's signed event deliveries.
import type Stripe from 'stripe';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { handleStripeEvent } from '../billing/inbound/index.ts';
import type { LedgerEvent } from '../billing/inbound/index.ts';
import type { CalendarOwner } from '../billing/calendar/index.ts';
import { ConfigError } from '../config.ts';
import type { Db } from '../db/types.ts';
import type { Registry } from '../engine/index.ts';
import { TOO_DEEP_MESSAGE, tooDeepField } from './json-depth.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { RETRY_AFTER_SECONDS, problem } from './problem.ts';

export interface StripeWebhookOptions {
  db: Db;
  registry: Registry;
  /** The endpoint's signing secret (whsec_…); without it every delivery is refused with a 503. */
  webhookSecret: string | undefined;
  /** Seconds a signature stays valid (Stripe's default, 300). */
  tolerance?: number;
  /** The clock signatures are checked against and events are stamped with (tests inject it). */
  now?: () => Date;
  /** Who owns the billing calendar; with `stripe`, Stripe's invoice events start runs. */
  calendarOwner?: CalendarOwner;
}

export interface StripeWebhookConfig {
  webhookSecret: string;
}

/** Reads STRIPE_WEBHOOK_SECRET; undefined when unset (then Stripe events are not accepted). */
export function readStripeWebhookConfig(env: Record<string, string | undefined>): StripeWebhookConfig | undefined {
  const secret = env.STRIPE_WEBHOOK_SECRET;
  if (secret === undefined || secret === '') return undefined;
  if (!/^whsec_\S+$/.test(secret)) {
    throw new ConfigError("STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_…)");
  }
  return { webhookSecret: secret };
}

const TOLERANCE_SECONDS = 300;

const PROBLEM = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
  },
};

// For the OpenAPI document. No body schema: the body stays the raw bytes the signature covers.
const ROUTE_SCHEMA = {
  operationId: 'receiveStripeEvent',
  summary: 'Receive a Stripe event',
  description:
    'Stripe-signed event deliveries (Stripe-Signature, 5 minute tolerance). Every verified event is recorded; ' +
    'mapped types start their billing run once per Stripe object. 400: bad or stale signature, nothing written; ' +
    '5xx: not handled, Stripe delivers it again.',
  tags: ['webhooks'],
  // No caller credentials: the Stripe-Signature over the body is checked instead.
  security: [],
  headers: { type: 'object', properties: { 'stripe-signature': { type: 'string' } } },
  response: {
    200: {
      type: 'object',
      properties: {
        received: { type: 'boolean' },
        event_id: { type: 'string' },
        outcome: { type: 'string' },
        repeated: { type: 'boolean' },
        run_id: { type: 'string' },
        detail: { type: 'string' },
        error: { type: 'string' },
      },
    },
    400: PROBLEM,
    500: PROBLEM,
    503: PROBLEM,
  },
};

function sendProblem(reply: FastifyReply, status: number, detail: string) {
  return reply.code(status).type('application/problem+json').send(problem(status, detail));
}

/**
 * Registers POST /webhooks/stripe. Register it without fastify-plugin: its raw-body parser must
 * stay inside this context (the signature is over the exact bytes Stripe sent, so nothing may
 * parse and re-serialise the body first), and the rest of the API keeps its JSON parser.
 */
export async function stripeWebhookRoutes(app: FastifyInstance, options: StripeWebhookOptions): Promise<void> {
  const now = options.now ?? (() => new Date());
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post('/webhooks/stripe', { schema: ROUTE_SCHEMA }, async (request, reply) => {
    const webhookSecret = options.webhookSecret;
    if (webhookSecret === undefined) {
      // Not a client error: Stripe keeps the event and delivers it again once this is configured.
      return sendProblem(reply, 503, 'STRIPE_WEBHOOK_SECRET is not set: Billflow does not accept Stripe events yet');
    }
    const signature = request.headers['stripe-signature'];
    if (typeof signature !== 'string' || signature === '') {
      return sendProblem(reply, 400, 'missing Stripe-Signature header');
    }
    if (!Buffer.isBuffer(request.body)) return sendProblem(reply, 400, 'empty body');
    let event: Stripe.Event;
    // The SDK on the first delivery, not at start: a service without Stripe never loads it.
    const { default: StripeSdk } = await import('stripe');
    try {
      event = StripeSdk.webhooks.constructEvent(
        request.body,
        signature,
        webhookSecret,
        options.tolerance ?? TOLERANCE_SECONDS,
        undefined,
        now().getTime(),
      );
    } catch (error) {
      // Bad signature, stale timestamp, or a body that is not an event: nothing is written.
      const detail = error instanceof Error ? error.message : String(error);
      request.log.warn({ detail }, 'stripe webhook refused');
      return sendProblem(reply, 400, `signature verification failed: ${detail}`);
    }
    // JSON.parse takes any depth; storing the event (JSON.stringify, jsonb) does not.
    if (tooDeepField(event) !== null) return sendProblem(reply, 400, `the body ${TOO_DEEP_MESSAGE}`);
    if (typeof event?.id !== 'string' || typeof event.type !== 'string' || typeof event.data !== 'object') {
      return sendProblem(reply, 400, 'the body is not a Stripe event');
    }
    let handled;
    try {
      handled = await handleStripeEvent(
        options.db,
        { registry: options.registry, now, calendarOwner: options.calendarOwner },
        event as unknown as LedgerEvent,
      );
    } catch (error) {
      // Not even recorded: Stripe must deliver it again.
      request.log.error({ err: error, stripe_event: event.id }, 'stripe event not recorded');
      if (isDatabaseUnavailable(error)) {
        reply.header('retry-after', String(RETRY_AFTER_SECONDS.database));
        return sendProblem(reply, 503, `event ${event.id} could not be recorded now; it will be retried`);
      }
      return sendProblem(reply, 500, `event ${event.id} could not be recorded; it will be retried`);
    }
    request.log.info(
      { stripe_event: handled.eventId, type: handled.type, outcome: handled.outcome, run_id: handled.run_id },
      'stripe event handled',
    );
    if (handled.outcome === 'failed') {
      // Recorded, but not handled: a 5xx makes Stripe deliver it again.
      return sendProblem(reply, 503, `event ${handled.eventId} could not be handled now; it will be retried`);
    }
    return reply.code(200).send({
      received: true,
      event_id: handled.eventId,
      outcome: handled.outcome,
      repeated: handled.repeated,
      ...(handled.run_id ? { run_id: handled.run_id } : {}),
      ...(handled.detail ? { detail: handled.detail } : {}),
      ...(handled.error ? { error: handled.error } : {}),
    });
  });
}
