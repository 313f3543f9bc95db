// The input of both payment workflows (payment_success and payment_failure): one payment's
// facts, checked the same way whichever way it went. One schema for the API's body
// (POST /payments), one for what a run stores; the run's adds what only Billflow sets.
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { InvalidInputError } from '../../../errors.ts';
import type { FieldError } from '../../../errors.ts';
import { PAYMENT_STATUSES, normalizeCurrency } from '../../records/index.ts';
import type { PaymentStatus } from '../../records/index.ts';
import { amount, currency, externalRef, idOf, inputParser, oneOf, text } from '../../records/schemas.ts';
import { RunOrigin } from './origin.ts';

export const PaymentRequest = Type.Object(
  {
    customer_id: idOf('cus'),
    amount: amount(),
    currency,
    status: oneOf(PAYMENT_STATUSES),
    invoice_id: Type.Optional(idOf('inv')),
    subscription_id: Type.Optional(idOf('sub')),
    /** Required for a failed payment (e.g. insufficient_funds, stolen_card), refused otherwise. */
    failure_code: Type.Optional(text(64)),
    provider_reference: Type.Optional(externalRef()),
    /** The provider payment method (pm_…): what dunning charges again. */
    payment_method: Type.Optional(externalRef('What dunning charges again after a failure.')),
  },
  { additionalProperties: false },
);
export type PaymentRequest = Static<typeof PaymentRequest>;

/** A payment run's input: the payment's facts, the id picked for it, and how it was paid. */
export const PaymentRunInput = Type.Object(
  {
    ...PaymentRequest.properties,
    payment_id: idOf('pay'),
    /** The attempt a dunning charge retries. */
    retry_of: Type.Optional(idOf('pay')),
    failure_message: Type.Optional(text(1000)),
    /** Started by the provider's own payment event: the provider, not dunning, retries it. */
    origin: Type.Optional(RunOrigin),
  },
  { additionalProperties: false },
);
export type PaymentRunInput = Static<typeof PaymentRunInput>;

/** A payment run's input parser: what the schema cannot say, every bad field named; `status` is the type's. */
export function paymentRunInputParser(status: PaymentStatus): (raw: unknown, checked?: boolean) => PaymentRunInput {
  return inputParser(PaymentRunInput, (input) => {
    const errors: FieldError[] = [];
    const code = normalizeCurrency(input.currency);
    if (!code) errors.push({ field: 'currency', message: 'must be an ISO 4217 currency code such as USD' });
    if (input.status === 'failed' && input.failure_code === undefined) {
      errors.push({ field: 'failure_code', message: 'is required for a failed payment' });
    }
    if (input.status === 'succeeded' && input.failure_code !== undefined) {
      errors.push({ field: 'failure_code', message: 'is only allowed for a failed payment' });
    }
    if (input.status !== status) errors.push({ field: 'status', message: `must be ${status} here` });
    if (errors.length > 0) throw new InvalidInputError(errors);
    return { ...input, currency: code ?? input.currency };
  });
}
