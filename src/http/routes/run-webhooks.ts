// The webhook messages a run emitted, for the people who look after runs (account_manager and
// above), who cannot see the endpoints' own pages.
import { getRun } from '../../engine/index.ts';
import { listRunDeliveries } from '../../notify/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idParams, nullableTimestamp, problemResponses } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { webhookEventTypeSchema } from './webhook-endpoints.ts';

const runDeliverySchema = {
  title: 'RunWebhookDelivery',
  type: 'object',
  required: ['event_id', 'type', 'endpoint_id', 'endpoint_origin', 'status', 'attempt_count'],
  properties: {
    event_id: { type: 'string', description: 'The message id, sent as `webhook-id` on every attempt' },
    type: webhookEventTypeSchema,
    endpoint_id: { type: 'string' },
    endpoint_origin: { type: 'string', description: "The endpoint's scheme, host and port (never its path)" },
    status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
    attempt_count: { type: 'integer' },
    last_status_code: { type: ['integer', 'null'] },
    last_error: { type: ['string', 'null'] },
    last_attempt_at: nullableTimestamp,
    delivered_at: nullableTimestamp,
    next_attempt_at: nullableTimestamp,
  },
};

export function runWebhookRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      url: '/workflows/:id/webhook-deliveries',
      operationId: 'listRunWebhookDeliveries',
      access: 'account_manager',
      summary: 'The webhook messages a run emitted, and where each stands per endpoint',
      description: 'Oldest first, at most 200. The endpoint is shown by its origin; its path can carry a token.',
      tags: ['Webhooks'],
      params: idParams('run'),
      response: {
        200: {
          type: 'object',
          required: ['items'],
          properties: { items: { type: 'array', items: runDeliverySchema } },
        },
        ...problemResponses(),
      },
      async handler(ctx) {
        await getRun(db, ctx.params.id);
        return { status: 200, body: { items: (await listRunDeliveries(db, ctx.params.id)).map(recordView) } };
      },
    }),
  ];
}
