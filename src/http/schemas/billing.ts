// Billing records as the API shows them (their schemas live with the records), the request pieces
// the routes share (the TypeBox pieces of src/billing/records/schemas.ts) and the JSON view.
import { amount, currency, externalRef as ref, timestampInput as timestamp } from '../../billing/records/schemas.ts';
import type { JsonSchema } from '../route.ts';

/** Request pieces. */
export const amountInput: JsonSchema = { ...amount() };
export const currencyInput: JsonSchema = { ...currency };
export const timestampInput: JsonSchema = { ...timestamp };
export const externalRef: JsonSchema = { ...ref() };

export {
  customerSchema,
  planSchema,
  subscriptionSchema,
  planChangeSchema,
  invoiceSummarySchema,
  invoiceSchema,
  paymentSchema,
  refundSchema,
  chargebackSchema,
  startedSchema,
} from '../../billing/records/views.ts';

/** A record with its timestamps as ISO strings (both drivers return Dates, PGlite sometimes strings). */
export function recordView<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = v instanceof Date ? v.toISOString() : v;
  return out as T;
}
