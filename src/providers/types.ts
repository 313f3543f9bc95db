/**
 * The one seam between the billing workflows and a payment provider.
 *
 * Conventions:
 * - Arguments are camelCase; results are plain JSON in snake_case, like the records and the REST
 *   API, so a step can return them as its output unchanged (dates are ISO strings for the same
 *   reason: they survive the JSON round trip through the run's history).
 * - Money is integer minor units plus an ISO 4217 code; results give the code in upper case.
 * - Every mutating call takes an idempotency key that the caller derives from run + step (+ the
 *   dunning attempt where a new charge is intended): the same key never acts twice.
 * - Errors: `RetryableError` for what may pass later (network, timeout, provider 5xx/429),
 *   `PermanentError` for what cannot (invalid request, unknown object, bad credentials). A card
 *   decline is not an error: it is a charge result with `status: 'failed'`.
 */
export type ProviderName = 'sandbox' | 'stripe';

export type Decline = 'soft' | 'hard';

export type Metadata = Readonly<Record<string, string>>;

export interface Mutation {
  /**
   * At most 255 characters. One key per provider call: the same key with different arguments,
   * or for another kind of call, is refused (PermanentError) — a step making two calls derives
   * two keys from its own (`${ctx.idempotencyKey}:customer`, `…:subscription`).
   */
  idempotencyKey: string;
  /**
   * Set only when no earlier attempt of this step can have reached the provider. Otherwise the
   * provider first looks for what an earlier attempt made (idempotency keys at a real provider
   * expire, a look-up does not). Never set it on an operator restart: the engine counts attempts
   * from 1 again, so `ctx.attempt === 1` alone does not prove a first call.
   */
  firstAttempt?: boolean;
}

export interface EnsureCustomerInput {
  /** See `Mutation.idempotencyKey`. Customers are always looked up first (by our id). */
  idempotencyKey: string;
  /** Our id (`cus_…`); the provider's record carries it so it can be found again. */
  customerId: string;
  email: string;
  name?: string;
}

export interface ProviderCustomer {
  provider_reference: string;
  customer_id: string;
  email: string;
}

export type PlanInterval = 'week' | 'month' | 'year';

export interface PlanTerms {
  code: string;
  name: string;
  amount: number;
  currency: string;
  interval: PlanInterval;
}

export interface CreateSubscriptionInput extends Mutation {
  /** Our id (`sub_…`): a subscription that already carries it is returned, not created again. */
  subscriptionId: string;
  /** The provider's customer reference (from `ensureCustomer`). */
  customer: string;
  plan: PlanTerms;
  paymentMethod?: string;
  metadata?: Metadata;
}

/** When a cancellation takes effect. A date already past when the call runs means now. */
export type CancelWhen = 'now' | 'period_end' | Date;

export interface CancelSubscriptionInput {
  idempotencyKey: string;
  providerReference: string;
  when: CancelWhen;
}

/**
 * A subscription's new price. The provider prorates nothing: Billflow's own next invoice carries
 * the proration of a change made at once, and a change at period end is what the provider bills
 * from its next period either way.
 */
export interface ChangeSubscriptionPlanInput {
  idempotencyKey: string;
  providerReference: string;
  plan: PlanTerms;
}

export interface FindSubscriptionQuery {
  /** Our id (`sub_…`), which the provider's record carries. */
  subscriptionId: string;
  /** The provider's customer reference (Stripe lists a customer's subscriptions consistently). */
  customer: string;
  /**
   * The provider's own id of the subscription, when known: it is then fetched by that id, which
   * also finds a subscription made at the provider that does not carry our id.
   */
  providerReference?: string;
}

export interface ProviderSubscription {
  provider_reference: string;
  /** Our id, when the provider's record carries it. */
  subscription_id: string | null;
  /** The provider's own word: active, trialing, past_due, incomplete, canceled, … */
  status: string;
  current_period_end: string | null;
  cancel_at_period_end: boolean;
  cancel_at: string | null;
  canceled_at: string | null;
}

export interface ChargeInput extends Mutation {
  amount: number;
  currency: string;
  /** The provider's customer reference. */
  customer: string;
  paymentMethod: string;
  description?: string;
  metadata?: Metadata;
}

export interface ChargeResult {
  status: 'succeeded' | 'failed';
  /**
   * The provider's payment (a PaymentIntent id at Stripe), also for a declined one; null only
   * when the provider refused before creating anything.
   */
  provider_reference: string | null;
  amount: number;
  currency: string;
  /** The decline code when there is one (insufficient_funds), otherwise the error code. */
  failure_code: string | null;
  failure_message: string | null;
  /**
   * soft: a later retry may succeed (dunning goes on); hard: it will not (dunning stops);
   * null: succeeded, or failed for a reason other than a decline (the payment was canceled).
   */
  decline: Decline | null;
}

export interface FindChargeQuery {
  idempotencyKey: string;
  /**
   * The provider's customer reference: lets Stripe use a consistent list instead of its search
   * index, which lags writes by up to a minute. Always give it when known.
   */
  customer?: string;
}

export interface RefundInput extends Mutation {
  /** The `provider_reference` of the charge. */
  chargeReference: string;
  /** Minor units; the whole remaining amount when absent. */
  amount?: number;
  reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer';
  metadata?: Metadata;
}

export interface RefundResult {
  /** pending: accepted, money not back yet (the provider reports the end by webhook). */
  status: 'succeeded' | 'pending' | 'failed';
  provider_reference: string;
  charge_reference: string;
  amount: number;
  currency: string;
  failure_code: string | null;
}

export interface FindRefundQuery {
  idempotencyKey: string;
  chargeReference: string;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  /** Finds the customer carrying our id (or, at Stripe, the only one with this email) or creates it. */
  ensureCustomer(input: EnsureCustomerInput): Promise<ProviderCustomer>;
  createSubscription(input: CreateSubscriptionInput): Promise<ProviderSubscription>;
  /** Idempotent by nature: cancelling a cancelled subscription returns it as it is. */
  cancelSubscription(input: CancelSubscriptionInput): Promise<ProviderSubscription>;
  /** Idempotent by nature: a subscription already on the plan's price is returned as it is. */
  changeSubscriptionPlan(input: ChangeSubscriptionPlanInput): Promise<ProviderSubscription>;
  /** The subscription carrying our id (whatever its status), or null when none was created. */
  findSubscription(query: FindSubscriptionQuery): Promise<ProviderSubscription | null>;
  /** An off-session charge of a saved payment method; a decline is a `failed` result. */
  charge(input: ChargeInput): Promise<ChargeResult>;
  /** What a charge with this key did, or null when nothing was charged under it. */
  findCharge(query: FindChargeQuery): Promise<ChargeResult | null>;
  refund(input: RefundInput): Promise<RefundResult>;
  findRefund(query: FindRefundQuery): Promise<RefundResult | null>;
}

/** An event as the provider keeps it (Stripe's Event object: the fields Billflow reads). */
export interface ProviderEvent {
  id: string;
  type: string;
  livemode: boolean;
  /** Unix seconds, the provider's clock. */
  created: number;
  api_version?: string | null;
  data: { object: unknown };
}

export interface EventListQuery {
  /** Events created after this (unix seconds). */
  createdAfter: number;
  /** And at or before this (unix seconds); open-ended when absent. */
  createdUntil?: number;
  /** The last event of the previous page (the next page holds older events). */
  startingAfter?: string;
  /** 1–100. */
  limit: number;
}

/**
 * The provider's own record of its events (Stripe's Events API, which keeps 30 days): what the
 * catch-up reads to find deliveries that never arrived. Pages are newest first, as Stripe lists.
 */
export interface ProviderEventSource {
  listEvents(query: EventListQuery): Promise<{ data: ProviderEvent[]; has_more: boolean }>;
}
