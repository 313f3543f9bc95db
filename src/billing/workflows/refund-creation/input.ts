// refund_creation's input: what the API accepts (the request body's one schema), and what a run
// stores (the id chosen for it, and where it came from).
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { amount, externalRef, idOf, inputParser, text } from '../../records/schemas.ts';
import { RunOrigin } from '../shared/origin.ts';

export const RefundRequest = Type.Object(
  {
    payment_id: idOf('pay'),
    /** Defaults to everything still refundable. */
    amount: Type.Optional(amount()),
    reason: Type.Optional(text(500)),
    /** Already refunded at the provider (an inbound event): the run links it, never refunds again. */
    provider_refund_id: Type.Optional(
      externalRef(
        'Already refunded at the provider (or elsewhere, for a payment recorded without one): recorded as ' +
          'done, never refunded again.',
      ),
    ),
  },
  { additionalProperties: false },
);
export type RefundRequest = Static<typeof RefundRequest>;

export const RefundCreationInput = Type.Object(
  { ...RefundRequest.properties, refund_id: idOf('re'), origin: Type.Optional(RunOrigin) },
  { additionalProperties: false },
);
export type RefundCreationInput = Static<typeof RefundCreationInput>;

export const parseRefundRunInput = inputParser(RefundCreationInput);
