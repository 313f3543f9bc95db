// Slack incoming-webhook endpoints: the URL is a credential, so it is only ever shown masked.
import {
  createSlackEndpoint,
  deleteSlackEndpoint,
  listSlackEndpoints,
  updateSlackEndpoint,
} from '../../notify/index.ts';
import type { SlackEndpointInput } from '../../notify/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idParams, noContent, problemResponses } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { slackEndpointSchema } from '../schemas/notify.ts';
import { NOTIFY_TAGS } from './notification-settings.ts';

const name = { type: 'string', minLength: 1, maxLength: 100 };
const url = { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2000 };

export function slackEndpointRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
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
    route<unknown, unknown, SlackEndpointInput>({
      method: 'POST',
      url: '/slack-endpoints',
      operationId: 'createSlackEndpoint',
      access: 'developer',
      summary: 'Add a Slack incoming-webhook endpoint',
      description: 'Names are unique (409 naming `name`). The URL is never shown again, only `url_hint`.',
      tags: NOTIFY_TAGS,
      audit: 'slack_endpoint.create',
      creates: true,
      body: {
        type: 'object',
        required: ['name', 'url'],
        additionalProperties: false,
        properties: { name, url, enabled: { type: 'boolean' } },
      },
      response: { 201: slackEndpointSchema, ...problemResponses(409) },
      async handler(ctx) {
        return ctx.transaction(async (tx) => {
          const endpoint = await createSlackEndpoint(tx, ctx.body);
          await ctx.audit(tx, { target: endpoint.id, details: { name: endpoint.name } });
          return { status: 201, body: recordView(endpoint) };
        });
      },
    }),
    route<{ id: string }, unknown, SlackEndpointInput>({
      method: 'PATCH',
      url: '/slack-endpoints/:id',
      operationId: 'updateSlackEndpoint',
      access: 'developer',
      summary: 'Rename, re-point, enable or disable a Slack endpoint',
      tags: NOTIFY_TAGS,
      audit: 'slack_endpoint.update',
      params: idParams('slk'),
      body: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { name, url, enabled: { type: 'boolean' } },
      },
      response: { 200: slackEndpointSchema, ...problemResponses(409) },
      async handler(ctx) {
        const updated = await db.transaction(async (tx) => {
          const endpoint = await updateSlackEndpoint(tx, ctx.params.id, ctx.body);
          // The new URL, if any, stays out of the audit log: it is a credential.
          const { url: changedUrl, ...rest } = ctx.body;
          await ctx.audit(tx, { target: endpoint.id, details: { ...rest, url_changed: changedUrl !== undefined } });
          return endpoint;
        });
        return { status: 200, body: recordView(updated) };
      },
    }),
    route<{ id: string }>({
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
