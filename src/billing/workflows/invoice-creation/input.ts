// invoice_creation's input: the invoice's facts and the id chosen for it, every bad field named.
import { InvalidInputError } from '../../../errors.ts';
import type { FieldError } from '../../../errors.ts';
import { InputReader, parseInvoiceInput } from '../../records/index.ts';
import type { InvoiceInput } from '../../records/index.ts';
import { idPattern } from '../../records/validate.ts';

export interface InvoiceRunInput extends InvoiceInput {
  invoice_id: string;
}

/** `credits`: see parseInvoiceInput. */
export function parseInvoiceRunInput(raw: unknown, options: { credits?: boolean } = {}): InvoiceRunInput {
  const errors: FieldError[] = [];
  let invoice: InvoiceInput | undefined;
  try {
    invoice = parseInvoiceInput(raw, options);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    errors.push(...error.errors);
  }
  const r = new InputReader(raw, '', []);
  const invoice_id = r.string('invoice_id', { required: true, pattern: idPattern('inv'), hint: 'must be an inv_ id' });
  try {
    r.done();
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    errors.push(...error.errors.filter((e) => !errors.some((known) => known.field === e.field)));
  }
  if (errors.length > 0 || !invoice) throw new InvalidInputError(errors);
  return { ...invoice, invoice_id };
}
