// invoice_creation's input: what the API accepts (the request body's one schema), and what a run
// stores (the id chosen for it; lines priced per unit as `unit_amount`, as the records say).
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { InvalidInputError } from '../../../errors.ts';
import type { FieldError } from '../../../errors.ts';
import { MAX_AMOUNT, normalizeCurrency, sumLines } from '../../records/index.ts';
import { currency, externalRef, idOf, inputParser, isoTimestamp, text, timestampInput } from '../../records/schemas.ts';

const quantity = Type.Integer({ minimum: 1, maximum: 1_000_000 });

export const InvoiceRequest = Type.Object(
  {
    customer_id: idOf('cus'),
    subscription_id: Type.Optional(idOf('sub')),
    currency,
    lines: Type.Array(
      Type.Object(
        {
          description: text(500),
          // A caller's invoice takes no credit line (only the calendar's renewals do).
          amount: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT, description: 'Per unit, minor units.' }),
          quantity: Type.Optional(quantity),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
    due_at: Type.Optional(timestampInput),
    provider_invoice_id: Type.Optional(externalRef()),
  },
  { additionalProperties: false },
);
export type InvoiceRequest = Static<typeof InvoiceRequest>;

export const InvoiceRunInput = Type.Object(
  {
    invoice_id: idOf('inv'),
    customer_id: idOf('cus'),
    subscription_id: Type.Optional(idOf('sub')),
    currency,
    lines: Type.Array(
      Type.Object(
        {
          description: text(500),
          quantity: Type.Optional(quantity),
          // Negative: a plan change's unused share, credited on a renewal invoice.
          unit_amount: Type.Integer({ minimum: -MAX_AMOUNT, maximum: MAX_AMOUNT }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
    /** When absent, `days_until_due` after creation. */
    due_at: Type.Optional(timestampInput),
    days_until_due: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
    provider_invoice_id: Type.Optional(externalRef()),
    /** Both or neither: the period a subscription's invoice bills. */
    period_start: Type.Optional(timestampInput),
    period_end: Type.Optional(timestampInput),
  },
  { additionalProperties: false },
);
type CheckedInvoiceRunInput = Static<typeof InvoiceRunInput>;
/** A run's input once checked: every line has its quantity, timestamps are UTC ISO. */
export type InvoiceRunInput = Omit<CheckedInvoiceRunInput, 'lines'> & {
  lines: (CheckedInvoiceRunInput['lines'][number] & { quantity: number })[];
};

/** What the schema cannot say, every bad field named: the currency, the totals, the period. */
function refine(input: CheckedInvoiceRunInput): InvoiceRunInput {
  const errors: FieldError[] = [];
  const code = normalizeCurrency(input.currency);
  if (!code) errors.push({ field: 'currency', message: 'must be an ISO 4217 currency code such as USD' });
  const lines = input.lines.map((line) => ({ ...line, quantity: line.quantity ?? 1 }));
  lines.forEach((line, i) => {
    if (Math.abs(line.quantity * line.unit_amount) > MAX_AMOUNT) {
      errors.push({ field: `lines[${i}].unit_amount`, message: 'line amount is too large' });
    }
  });
  if (input.due_at !== undefined && input.days_until_due !== undefined) {
    errors.push({ field: 'days_until_due', message: 'give either due_at or this' });
  }
  const [start, end] = [isoTimestamp(input.period_start), isoTimestamp(input.period_end)];
  if ((start === undefined) !== (end === undefined)) {
    const field = start === undefined ? 'period_start' : 'period_end';
    errors.push({ field, message: 'is required with the other period field' });
  } else if (start !== undefined && end !== undefined && end <= start) {
    errors.push({ field: 'period_end', message: 'must be after period_start' });
  }
  const fits = lines.every((l) => Math.abs(l.quantity * l.unit_amount) <= MAX_AMOUNT);
  if (fits && sumLines(lines) > MAX_AMOUNT)
    errors.push({ field: 'lines', message: `total must be at most ${MAX_AMOUNT}` });
  if (fits && sumLines(lines) < 0) errors.push({ field: 'lines', message: 'total must not be negative' });
  if (errors.length > 0) throw new InvalidInputError(errors);
  const timestamps = { due_at: isoTimestamp(input.due_at), period_start: start, period_end: end };
  const defined = Object.fromEntries(Object.entries(timestamps).filter(([, v]) => v !== undefined));
  return { ...input, currency: code ?? input.currency, lines, ...defined };
}

export const parseInvoiceRunInput = inputParser(InvoiceRunInput, refine);
