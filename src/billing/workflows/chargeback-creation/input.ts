// chargeback_creation's input: the chargeback's facts (the request body's one schema), and what a
// run stores (the id chosen for it, and where it came from).
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { CHARGEBACK_STATUSES } from '../../records/index.ts';
import { amount, externalRef, idOf, inputParser, oneOf, text } from '../../records/schemas.ts';
import { RunOrigin } from '../shared/origin.ts';

export const ChargebackRequest = Type.Object(
  {
    payment_id: idOf('pay'),
    /** Defaults to the whole payment. */
    amount: Type.Optional(amount()),
    // Provider reason codes (fraudulent, product_not_received, …) are kept as given.
    reason: Type.Optional(text(200, 'e.g. fraudulent')),
    status: Type.Optional(oneOf(CHARGEBACK_STATUSES)),
    provider_reference: Type.Optional(externalRef("The provider's dispute id.")),
  },
  { additionalProperties: false },
);
export type ChargebackRequest = Static<typeof ChargebackRequest>;

export const ChargebackCreationInput = Type.Object(
  {
    ...ChargebackRequest.properties,
    chargeback_id: idOf('cb'),
    /** Started by the provider's dispute event (shown with the run; the workflow calls no provider). */
    origin: Type.Optional(RunOrigin),
  },
  { additionalProperties: false },
);
export type ChargebackCreationInput = Static<typeof ChargebackCreationInput>;

export const parseChargebackRunInput = inputParser(ChargebackCreationInput);
