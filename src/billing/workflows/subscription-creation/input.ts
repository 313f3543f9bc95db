// subscription_creation's input: what the API accepts (the request body's one schema), and what a
// run stores (the id chosen for it, and where it came from).
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { COLLECTION_METHODS } from '../../records/index.ts';
import { externalRef, idOf, inputParser, isoTimestamp, oneOf, text, timestampInput } from '../../records/schemas.ts';
import { RunOrigin } from '../shared/origin.ts';

export const SubscriptionRequest = Type.Object(
  {
    customer_id: idOf('cus'),
    plan_code: text(64),
    trial_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 730, description: "Overrides the plan's trial." })),
    /** Defaults to the creation time (a provider's subscription may start earlier). */
    started_at: Type.Optional(timestampInput),
    /** Stored with the run: the provider charges it for the subscription. */
    payment_method: Type.Optional(externalRef('What the provider charges (sandbox: pm_card_ok, …).')),
    /** Started by the provider's own event: the subscription exists there already. */
    provider_subscription_id: Type.Optional(externalRef('Already created at the provider: link it.')),
    collection_method: Type.Optional(
      oneOf(COLLECTION_METHODS, {
        description:
          'How renewal invoices are collected: charged to the payment method on file (default) or sent to be paid.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SubscriptionRequest = Static<typeof SubscriptionRequest>;

export const SubscriptionCreationInput = Type.Object(
  {
    ...SubscriptionRequest.properties,
    /** Chosen by the operation before the run starts, so the run names its record. */
    subscription_id: idOf('sub'),
    origin: Type.Optional(RunOrigin),
  },
  { additionalProperties: false },
);
export type SubscriptionCreationInput = Static<typeof SubscriptionCreationInput>;

export const parseSubscriptionRunInput = inputParser(SubscriptionCreationInput, (input) =>
  input.started_at === undefined ? input : { ...input, started_at: isoTimestamp(input.started_at) },
);
