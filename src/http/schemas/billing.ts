// Billing records as the API shows them (their schemas live with the records) and the JSON view.
// Request bodies are made of the TypeBox pieces in src/billing/records/schemas.ts.

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
