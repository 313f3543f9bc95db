// Outgoing event webhooks: endpoints, the event outbox, signed delivery with retries, the SSRF guard.
export { WEBHOOK_EVENT_TYPES, isWebhookEventType } from './event-types.ts';
export type { WebhookEventType } from './event-types.ts';
export { emitEvent, eventIdFor } from './emit.ts';
export type { EmittedEvent } from './emit.ts';
export {
  createWebhookEndpoint,
  listWebhookEndpoints,
  getWebhookEndpoint,
  updateWebhookEndpoint,
  deleteWebhookEndpoint,
  rotateWebhookSecret,
  newWebhookSecret,
  ROTATION_OVERLAP_MS,
} from './endpoints.ts';
export type { WebhookEndpointView, WebhookEndpointInput } from './endpoints.ts';
export { parseAllowHosts, urlProblem, isBlockedAddress, guardedLookup, NO_EXCEPTIONS } from './guard.ts';
export type { UrlGuard, Resolver } from './guard.ts';
export { postGuarded } from './post.ts';
export type { PostResult, PostOptions } from './post.ts';
export {
  deliverDueWebhooks,
  startWebhookDelivery,
  RETRY_SCHEDULE_MS,
  DISABLE_AFTER_MS,
  webhookBody,
} from './deliver.ts';
export type { WebhookDeliveryDeps, WebhookDelivery, DeliveryPass, WebhookAttemptEvent } from './deliver.ts';
export { listDeliveries, listAttempts, listRunDeliveries, resendMessage, recoverFailed } from './history.ts';
export type { DeliveryView, AttemptView, RunDeliveryView } from './history.ts';
