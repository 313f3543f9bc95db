// The OpenAPI document's `webhooks`: what Billflow POSTs to event webhook endpoints, one entry per
// event type (docs/webhooks.md has the prose: signature, retries, SSRF guard).
import { WEBHOOK_EVENT_TYPES } from '../notify/index.ts';
import type { WebhookEventType } from '../notify/index.ts';
import type { OpenAPIV3_1 } from 'openapi-types';
import type { JsonSchema } from './route.ts';
// The records as the API shows them: named components in the document (see openapi.ts).
import {
  chargebackSchema,
  customerSchema,
  invoiceSummarySchema,
  paymentSchema,
  refundSchema,
  subscriptionSchema,
} from './schemas/billing.ts';

const runData: JsonSchema = {
  type: 'object',
  required: ['id', 'type', 'status'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', description: 'The workflow type' },
    status: { type: 'string', enum: ['failed', 'completed'] },
    failed_step: { type: 'string' },
    error: { description: 'What the failed step threw' },
    finished_at: { type: ['string', 'null'], format: 'date-time' },
  },
};

const DATA: Record<WebhookEventType, [JsonSchema, string]> = {
  'subscription.created': [subscriptionSchema, 'A subscription was recorded'],
  'subscription.cancelled': [subscriptionSchema, 'A subscription was cancelled'],
  'subscription.renewed': [subscriptionSchema, 'The billing calendar renewed a subscription for its next period'],
  'invoice.created': [invoiceSummarySchema, 'An invoice was recorded'],
  'invoice.paid': [invoiceSummarySchema, 'An invoice was paid'],
  'invoice.overdue': [invoiceSummarySchema, 'An invoice passed its due date unpaid'],
  'payment.succeeded': [paymentSchema, 'A succeeded payment was recorded'],
  'payment.failed': [paymentSchema, 'A failed payment attempt was recorded'],
  'refund.created': [refundSchema, 'A refund was recorded'],
  'chargeback.created': [chargebackSchema, 'A chargeback was recorded'],
  'customer.disabled': [customerSchema, 'A customer was disabled (an unpaid invoice past its grace period)'],
  'workflow_run.failed': [runData, 'A workflow run stopped at a step after its retries'],
  'workflow_run.recovered': [runData, 'A run that had failed completed after a restart or a skip'],
};

const camel = (type: string) =>
  type.replace(/[._](\w)/g, (_m, c: string) => c.toUpperCase()).replace(/^\w/, (c) => c.toUpperCase());

/** One `post` per event type: the Standard Webhooks envelope around the record. */
export function webhookDocs(): Record<string, OpenAPIV3_1.PathItemObject> {
  // Plain JSON Schema objects, as the route schemas are; the document's types are stricter.
  const docs: Record<string, unknown> = Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => {
      const [data, summary] = DATA[type];
      return [
        type,
        {
          post: {
            operationId: `on${camel(type)}`,
            summary,
            description:
              'Signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`); ' +
              'any 2xx within 10 s is a delivery, anything else is retried for about three days.',
            tags: ['Webhooks'],
            security: [],
            parameters: ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => ({
              name,
              in: 'header',
              required: true,
              schema: { type: 'string' },
            })),
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['type', 'timestamp', 'run_id', 'data'],
                    properties: {
                      type: { type: 'string', const: type },
                      timestamp: { type: 'string', format: 'date-time', description: 'When the fact happened' },
                      run_id: { type: ['string', 'null'], description: 'The run whose step made it true' },
                      data,
                    },
                  },
                },
              },
            },
            responses: {
              '200': { description: 'Received (any 2xx)' },
              '400': { description: 'Refused: retried on the schedule like any other failure' },
            },
          },
        },
      ];
    }),
  );
  return docs as Record<string, OpenAPIV3_1.PathItemObject>;
}
