// Outgoing event webhooks: endpoints (secrets shown once), their deliveries and attempts,
// resending one message and recovering the failed ones.
import { Type } from 'typebox';
import { oneOf } from '../../billing/records/schemas.ts';
import {
  NO_EXCEPTIONS,
  WEBHOOK_EVENT_TYPES,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listAttempts,
  listDeliveries,
  listWebhookEndpoints,
  recoverFailed,
  resendMessage,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from '../../notify/index.ts';
import { actorOf } from '../auth/principal.ts';
import type { ApiDeps } from '../deps.ts';
import { decodeCursor, pageLimit, parseTimestamp, toPage } from '../pagination.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import {
  idParams,
  idString,
  noContent,
  nullableTimestamp,
  pageOf,
  nullable,
  pageQuery,
  problemResponses,
  timestamp,
} from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';

const TAGS = ['Webhooks'];

export const webhookEventTypeSchema = oneOf(WEBHOOK_EVENT_TYPES, { title: 'WebhookEventType' });

const eventTypesInput = nullable(
  Type.Array(webhookEventTypeSchema, {
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    uniqueItems: true,
    description: 'The event types to send; null (or left out when creating) sends every type.',
  }),
);

const urlInput = Type.String({ minLength: 1, maxLength: 2000, examples: ['https://hooks.example.com/billflow'] });
const descriptionInput = Type.String({ maxLength: 500 });

export const webhookEndpointSchema = {
  title: 'WebhookEndpoint',
  type: 'object',
  required: ['id', 'url', 'description', 'event_types', 'enabled', 'created_at', 'updated_at'],
  properties: {
    id: idString('whe'),
    url: { type: 'string' },
    description: { type: 'string' },
    event_types: { type: ['array', 'null'], items: webhookEventTypeSchema },
    enabled: { type: 'boolean' },
    disabled_reason: { type: ['string', 'null'], description: 'Why Billflow disabled it, when it did' },
    failing_since: { ...nullableTimestamp, description: 'The first failure of an unbroken run of failures' },
    previous_secret_expires_at: {
      ...nullableTimestamp,
      description: 'Until when the secret from before the last rotation still signs too',
    },
    created_by: { type: ['string', 'null'] },
    created_at: timestamp,
    updated_at: timestamp,
  },
};

const withSecretSchema = {
  type: 'object',
  required: ['endpoint', 'secret'],
  properties: {
    endpoint: webhookEndpointSchema,
    secret: {
      type: ['string', 'null'],
      description: 'The signing secret (`whsec_…`), shown in this answer only; null on an idempotent replay.',
    },
  },
};

export const webhookDeliverySchema = {
  title: 'WebhookDelivery',
  type: 'object',
  required: ['event_id', 'endpoint_id', 'type', 'status', 'attempt_count', 'created_at'],
  properties: {
    event_id: { type: 'string', description: 'The message id, sent as `webhook-id` on every attempt' },
    endpoint_id: { type: 'string' },
    type: webhookEventTypeSchema,
    run_id: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
    attempt_count: { type: 'integer' },
    next_attempt_at: nullableTimestamp,
    last_attempt_at: nullableTimestamp,
    delivered_at: nullableTimestamp,
    created_at: timestamp,
  },
};

export const webhookAttemptSchema = {
  title: 'WebhookAttempt',
  type: 'object',
  required: ['id', 'event_id', 'endpoint_id', 'attempt', 'attempted_at', 'ok', 'latency_ms'],
  properties: {
    id: { type: 'string' },
    event_id: { type: 'string' },
    endpoint_id: { type: 'string' },
    attempt: { type: 'integer' },
    attempted_at: timestamp,
    ok: { type: 'boolean', description: 'The receiver answered 2xx' },
    status_code: { type: ['integer', 'null'], description: 'null when no answer came (refused, timed out)' },
    error: { type: ['string', 'null'] },
    latency_ms: { type: 'integer' },
    response_body: { type: ['string', 'null'], description: 'The first 4 KB of the answer' },
  },
};

const messageParams = Type.Object({ id: idString('whe'), event_id: idString('msg') }, { additionalProperties: false });

export function webhookEndpointRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  const guard = deps.webhookGuard ?? NO_EXCEPTIONS;
  return [
    route({
      method: 'GET',
      url: '/webhook-endpoints',
      operationId: 'listWebhookEndpoints',
      access: 'developer',
      summary: 'Webhook endpoints (never their secrets)',
      tags: TAGS,
      response: {
        200: {
          type: 'object',
          required: ['items'],
          properties: { items: { type: 'array', items: webhookEndpointSchema } },
        },
        ...problemResponses(),
      },
      async handler() {
        return { status: 200, body: { items: (await listWebhookEndpoints(db)).map(recordView) } };
      },
    }),
    route({
      method: 'POST',
      url: '/webhook-endpoints',
      operationId: 'createWebhookEndpoint',
      access: 'developer',
      summary: 'Add a webhook endpoint (its secret is shown once)',
      description:
        'The URL must be https and must not point to a private, loopback or link-local address unless ' +
        '`BILLFLOW_WEBHOOK_ALLOW_HOSTS` allows it (400 naming `url`). The answer carries the signing secret, ' +
        'the only time it is shown; an idempotent replay answers `secret: null`.',
      tags: TAGS,
      audit: 'webhook_endpoint.create',
      creates: true,
      secretFields: ['secret'],
      body: Type.Object(
        {
          url: urlInput,
          description: Type.Optional(descriptionInput),
          event_types: Type.Optional(eventTypesInput),
          enabled: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      response: { 201: withSecretSchema, ...problemResponses() },
      async handler(ctx) {
        const principal = ctx.principal;
        return ctx.transaction(async (tx) => {
          const { endpoint, secret } = await createWebhookEndpoint(tx, guard, {
            ...ctx.body,
            createdBy: principal ? actorOf(principal) : null,
            now: deps.clock(),
          });
          await ctx.audit(tx, {
            target: endpoint.id,
            details: { url: endpoint.url, event_types: endpoint.event_types },
          });
          return { status: 201, body: { endpoint: recordView(endpoint), secret } };
        });
      },
    }),
    route({
      method: 'GET',
      url: '/webhook-endpoints/:id',
      operationId: 'getWebhookEndpoint',
      access: 'developer',
      summary: 'One webhook endpoint',
      tags: TAGS,
      params: idParams('whe'),
      response: { 200: webhookEndpointSchema, ...problemResponses() },
      async handler(ctx) {
        return { status: 200, body: recordView(await getWebhookEndpoint(db, ctx.params.id)) };
      },
    }),
    route({
      method: 'PATCH',
      url: '/webhook-endpoints/:id',
      operationId: 'updateWebhookEndpoint',
      access: 'developer',
      summary: 'Re-point, describe, subscribe, enable or disable a webhook endpoint',
      description: 'Enabling an endpoint again clears its failure streak; its waiting messages are then sent.',
      tags: TAGS,
      audit: 'webhook_endpoint.update',
      params: idParams('whe'),
      body: Type.Object(
        {
          url: Type.Optional(urlInput),
          description: Type.Optional(descriptionInput),
          event_types: Type.Optional(eventTypesInput),
          enabled: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: webhookEndpointSchema, ...problemResponses() },
      async handler(ctx) {
        const updated = await db.transaction(async (tx) => {
          const endpoint = await updateWebhookEndpoint(tx, guard, ctx.params.id, ctx.body, deps.clock());
          await ctx.audit(tx, { target: endpoint.id, details: { ...ctx.body } });
          return endpoint;
        });
        return { status: 200, body: recordView(updated) };
      },
    }),
    route({
      method: 'DELETE',
      url: '/webhook-endpoints/:id',
      operationId: 'deleteWebhookEndpoint',
      access: 'developer',
      summary: 'Delete a webhook endpoint and its delivery history',
      tags: TAGS,
      audit: 'webhook_endpoint.delete',
      params: idParams('whe'),
      response: { 204: noContent, ...problemResponses() },
      async handler(ctx) {
        await db.transaction(async (tx) => {
          await deleteWebhookEndpoint(tx, ctx.params.id);
          await ctx.audit(tx, { target: ctx.params.id });
        });
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      url: '/webhook-endpoints/:id/rotate-secret',
      operationId: 'rotateWebhookSecret',
      access: 'developer',
      summary: 'Rotate the signing secret (the old one keeps signing for 24 hours)',
      description:
        'Every message carries a signature by the new secret and, for 24 hours, one by the previous ' +
        'secret too, so receivers can switch without losing a message. The new secret is shown once.',
      tags: TAGS,
      audit: 'webhook_endpoint.rotate_secret',
      creates: true,
      secretFields: ['secret'],
      params: idParams('whe'),
      response: { 201: withSecretSchema, ...problemResponses() },
      async handler(ctx) {
        return ctx.transaction(async (tx) => {
          const { endpoint, secret } = await rotateWebhookSecret(tx, ctx.params.id, deps.clock());
          await ctx.audit(tx, { target: endpoint.id });
          return { status: 201, body: { endpoint: recordView(endpoint), secret } };
        });
      },
    }),
    route({
      method: 'GET',
      url: '/webhook-endpoints/:id/deliveries',
      operationId: 'listWebhookDeliveries',
      access: 'developer',
      summary: "An endpoint's messages, newest first, with where each stands",
      tags: TAGS,
      params: idParams('whe'),
      querystring: pageQuery({ status: Type.Optional(oneOf(['pending', 'delivered', 'failed'])) }),
      response: { 200: pageOf(webhookDeliverySchema), ...problemResponses() },
      async handler(ctx) {
        await getWebhookEndpoint(db, ctx.params.id);
        const limit = pageLimit(ctx.query);
        const after = decodeCursor(ctx.query.cursor, ['string', 'string']) as [string, string] | null;
        const rows = await listDeliveries(db, ctx.params.id, { limit: limit + 1, after, status: ctx.query.status });
        return {
          status: 200,
          body: toPage(
            rows,
            limit,
            (r) => [r.cursor_at, r.event_id],
            ({ cursor_at: _, ...r }) => recordView(r),
          ),
        };
      },
    }),
    route({
      method: 'GET',
      url: '/webhook-endpoints/:id/attempts',
      operationId: 'listWebhookAttempts',
      access: 'developer',
      summary: "An endpoint's delivery attempts, newest first (one message's with event_id)",
      tags: TAGS,
      params: idParams('whe'),
      querystring: pageQuery({ event_id: Type.Optional(idString('msg')) }),
      response: { 200: pageOf(webhookAttemptSchema), ...problemResponses() },
      async handler(ctx) {
        await getWebhookEndpoint(db, ctx.params.id);
        const limit = pageLimit(ctx.query);
        const after = decodeCursor(ctx.query.cursor, ['string']);
        const rows = await listAttempts(db, ctx.params.id, {
          limit: limit + 1,
          after: (after?.[0] as string | undefined) ?? null,
          eventId: ctx.query.event_id,
        });
        return { status: 200, body: toPage(rows, limit, (r) => [r.id], recordView) };
      },
    }),
    route({
      method: 'POST',
      url: '/webhook-endpoints/:id/deliveries/:event_id/resend',
      operationId: 'resendWebhookMessage',
      access: 'developer',
      summary: 'Send one message to the endpoint again, with the same webhook-id',
      description: 'The message is queued at once with a fresh retry schedule; its attempts show as they happen.',
      tags: TAGS,
      audit: 'webhook_endpoint.resend',
      params: messageParams,
      response: { 202: noContent, ...problemResponses() },
      async handler(ctx) {
        await db.transaction(async (tx) => {
          await resendMessage(tx, ctx.params.id, ctx.params.event_id, deps.clock());
          await ctx.audit(tx, { target: ctx.params.id, details: { event_id: ctx.params.event_id } });
        });
        return { status: 202 };
      },
    }),
    route({
      method: 'POST',
      url: '/webhook-endpoints/:id/recover',
      operationId: 'recoverWebhookMessages',
      access: 'developer',
      summary: 'Send again every message to the endpoint that failed, created since a time',
      tags: TAGS,
      audit: 'webhook_endpoint.recover',
      params: idParams('whe'),
      body: Type.Object(
        { since: Type.String({ format: 'date-time', maxLength: 40 }) },
        { additionalProperties: false },
      ),
      response: {
        202: { type: 'object', required: ['queued'], properties: { queued: { type: 'integer' } } },
        ...problemResponses(),
      },
      async handler(ctx) {
        const since = parseTimestamp(ctx.body.since, 'since');
        const queued = await db.transaction(async (tx) => {
          await getWebhookEndpoint(tx, ctx.params.id);
          const n = await recoverFailed(tx, ctx.params.id, since, deps.clock());
          await ctx.audit(tx, { target: ctx.params.id, details: { since: since.toISOString(), queued: n } });
          return n;
        });
        return { status: 202, body: { queued } };
      },
    }),
  ];
}
