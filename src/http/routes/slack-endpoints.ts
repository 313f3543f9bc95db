// Slack incoming-webhook endpoints: the URL is a credential, so it is only ever shown masked.
import { Type } from 'typebox';
import {
  createSlackEndpoint,
  deleteSlackEndpoint,
  listSlackEndpoints,
  NO_EXCEPTIONS,
  sendSlackTest,
  updateSlackEndpoint,
} from '../../notify/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idParams, noContent, problemResponses } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { slackEndpointSchema } from '../schemas/notify.ts';
import { NOTIFY_TAGS } from './notification-settings.ts';

const name = Type.String({ minLength: 1, maxLength: 100 });
const url = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 });

export function slackEndpointRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  const guard = deps.webhookGuard ?? NO_EXCEPTIONS;
  return [
    route({
      method: 'GET',
      url: '/slack-endpoints',
      operationId: 'listSlackEndpoints',
      access: 'developer',
      summary: 'Slack endpoints (URLs masked)',
      tags: NOTIFY_TAGS,
      response: {
        200: {
          type: 'object',
          required: ['items'],
          properties: { items: { type: 'array', items: slackEndpointSchema } },
        },
        ...problemResponses(),
      },
      async handler() {
        return { status: 200, body: { items: (await listSlackEndpoints(db)).map(recordView) } };
      },
    }),
    route({
      method: 'POST',
      url: '/slack-endpoints',
      operationId: 'createSlackEndpoint',
      access: 'developer',
      summary: 'Add a Slack incoming-webhook endpoint',
      description:
        'Names are unique (409 naming `name`). The URL is never shown again, only `url_hint`. Like webhook ' +
        'endpoints, it must be https and not point to a private, loopback or link-local address unless ' +
        '`BILLFLOW_WEBHOOK_ALLOW_HOSTS` allows it (400 naming `url`).',
      tags: NOTIFY_TAGS,
      audit: 'slack_endpoint.create',
      creates: true,
      body: Type.Object({ name, url, enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 201: slackEndpointSchema, ...problemResponses(409) },
      async handler(ctx) {
        return ctx.transaction(async (tx) => {
          const endpoint = await createSlackEndpoint(tx, ctx.body, { guard });
          await ctx.audit(tx, { target: endpoint.id, details: { name: endpoint.name } });
          return { status: 201, body: recordView(endpoint) };
        });
      },
    }),
    route({
      method: 'PATCH',
      url: '/slack-endpoints/:id',
      operationId: 'updateSlackEndpoint',
      access: 'developer',
      summary: 'Rename, re-point, enable or disable a Slack endpoint',
      tags: NOTIFY_TAGS,
      audit: 'slack_endpoint.update',
      params: idParams('slk'),
      body: Type.Object(
        { name: Type.Optional(name), url: Type.Optional(url), enabled: Type.Optional(Type.Boolean()) },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: slackEndpointSchema, ...problemResponses(409) },
      async handler(ctx) {
        const updated = await db.transaction(async (tx) => {
          const endpoint = await updateSlackEndpoint(tx, ctx.params.id, ctx.body, { guard });
          // The new URL, if any, stays out of the audit log: it is a credential.
          const { url: changedUrl, ...rest } = ctx.body;
          await ctx.audit(tx, { target: endpoint.id, details: { ...rest, url_changed: changedUrl !== undefined } });
          return endpoint;
        });
        return { status: 200, body: recordView(updated) };
      },
    }),
    route({
      method: 'POST',
      url: '/slack-endpoints/:id/test',
      operationId: 'testSlackEndpoint',
      access: 'developer',
      summary: 'Send a test message to a Slack endpoint',
      description:
        'Posts one message now, enabled or not, and says what Slack answered. Nothing is recorded; ' +
        'a refused URL or an answer other than 2xx is `delivered: false` with the reason.',
      tags: NOTIFY_TAGS,
      params: idParams('slk'),
      response: {
        200: {
          title: 'SlackTestResult',
          type: 'object',
          required: ['delivered', 'status_code', 'error', 'latency_ms'],
          properties: {
            delivered: { type: 'boolean' },
            status_code: { type: ['integer', 'null'] },
            error: { type: ['string', 'null'] },
            latency_ms: { type: 'integer' },
          },
        },
        ...problemResponses(),
      },
      async handler(ctx) {
        const from = deps.publicUrl ? ` (${deps.publicUrl})` : '';
        const text = `Billflow test message${from}: notices and failure alerts arrive here.`;
        return { status: 200, body: await sendSlackTest(db, guard, ctx.params.id, text) };
      },
    }),
    route({
      method: 'DELETE',
      url: '/slack-endpoints/:id',
      operationId: 'deleteSlackEndpoint',
      access: 'developer',
      summary: 'Delete a Slack endpoint',
      tags: NOTIFY_TAGS,
      audit: 'slack_endpoint.delete',
      params: idParams('slk'),
      response: { 204: noContent, ...problemResponses() },
      async handler(ctx) {
        await db.transaction(async (tx) => {
          await deleteSlackEndpoint(tx, ctx.params.id);
          await ctx.audit(tx, { target: ctx.params.id });
        });
        return { status: 204 };
      },
    }),
  ];
}
