/** The event types an endpoint can subscribe to (docs/webhooks.md describes each payload). */
export const WEBHOOK_EVENT_TYPES = [
  'subscription.created',
  'subscription.cancelled',
  'subscription.renewed',
  'invoice.created',
  'invoice.paid',
  'invoice.overdue',
  'payment.succeeded',
  'payment.failed',
  'refund.created',
  'chargeback.created',
  'customer.disabled',
  'workflow_run.failed',
  'workflow_run.recovered',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}
