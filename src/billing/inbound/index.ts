// Inbound Stripe events: the ledger of what Stripe sent, the mapping to billing operations, and
// the handler the webhook route calls once the signature is verified.
export { handleStripeEvent, replayStripeEvent } from './handle.ts';
export { catchUpStatus, catchUpStripeEvents, sweepWaitingStripeEvents } from './catch-up.ts';
export type { CatchUpDeps, CatchUpResult, CatchUpStatus, SweepResult } from './catch-up.ts';
export { pageStripeEvents, stripeEventDetail } from './ledger-list.ts';
export type { StripeEventDetail, StripeEventFilter, StripeEventRow } from './ledger-list.ts';
export type { HandledStripeEvent, StripeInboundDeps } from './handle.ts';
export { MAPPED_EVENT_TYPES, idempotencyKeyFor, mapStripeEvent, priceTerms } from './map.ts';
export type { CustomerHint, PriceTerms, StripeEventLike, StripeIntent } from './map.ts';
export {
  STRIPE_EVENT_OUTCOMES,
  eventsWaitingFor,
  findStripeEvent,
  listStripeEvents,
  recordDelivery,
  settleEvent,
  stripeEventPayload,
} from './ledger.ts';
export type { EventOutcome, LedgerEvent, StripeEventOutcome, StripeEventRecord, StripeEventSource } from './ledger.ts';
export { ensurePlanForPrice, resolveCustomer, resolvePayment } from './resolve.ts';
