// subscription_creation's input: what the API accepts, and what a run stores (the id chosen for it).
import { InputReader, parseSubscriptionInput } from '../../records/index.ts';
import type { SubscriptionInput } from '../../records/index.ts';
import { idPattern } from '../../records/validate.ts';
import { parseOrigin, withOrigin } from '../shared/origin.ts';
import type { RunOrigin } from '../shared/origin.ts';

export interface SubscriptionCreationInput extends SubscriptionInput {
  /** Chosen by the operation before the run starts, so the run names its record. */
  subscription_id: string;
  /** Stored with the run: the provider charges it for the subscription. */
  payment_method?: string;
  /** Started by the provider's own event: the subscription exists there already. */
  origin?: RunOrigin;
}

/** What the operation accepts (no id yet). */
export function parseSubscriptionRequest(raw: unknown): Omit<SubscriptionCreationInput, 'subscription_id'> {
  const base = parseSubscriptionInput(raw);
  const r = new InputReader(raw);
  const payment_method = r.string('payment_method', { max: 255 });
  r.done();
  return payment_method === undefined ? base : { ...base, payment_method };
}

export function parseSubscriptionRunInput(raw: unknown): SubscriptionCreationInput {
  const request = parseSubscriptionRequest(raw);
  const r = new InputReader(raw);
  const subscription_id = r.string('subscription_id', { required: true, pattern: idPattern('sub') });
  r.done();
  return withOrigin({ ...request, subscription_id }, parseOrigin(raw));
}
