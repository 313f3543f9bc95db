// The input of both payment workflows (payment_success and payment_failure): one payment's
// facts, checked the same way whichever way it went.
import { InvalidInputError } from '../../../errors.ts';
import type { FieldError } from '../../../errors.ts';
import { InputReader, parsePaymentInput } from '../../records/index.ts';
import type { PaymentInput, PaymentStatus } from '../../records/index.ts';
import { idPattern } from '../../records/validate.ts';
import { parseOrigin, withOrigin } from './origin.ts';
import type { RunOrigin } from './origin.ts';

/** A payment run's input: the payment's facts, the id picked for it, and how it was paid. */
export interface PaymentRunInput extends PaymentInput {
  payment_id: string;
  /** The provider payment method (pm_…): what dunning charges again. */
  payment_method?: string;
  /** Started by the provider's own payment event: the provider, not dunning, retries it. */
  origin?: RunOrigin;
}

/** Checks a payment run's input, every bad field named; `status` must be the run type's. */
export function parsePaymentRunInput(raw: unknown, status: PaymentStatus): PaymentRunInput {
  const errors: FieldError[] = [];
  let payment: PaymentInput | undefined;
  try {
    payment = parsePaymentInput(raw);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    errors.push(...error.errors);
  }
  const r = new InputReader(raw, '', []);
  const payment_id = r.string('payment_id', { required: true, pattern: idPattern('pay'), hint: 'must be a pay_ id' });
  const payment_method = r.string('payment_method', { max: 255 });
  let origin: RunOrigin | undefined;
  try {
    r.done();
    origin = parseOrigin(raw);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    errors.push(...error.errors.filter((e) => !errors.some((known) => known.field === e.field)));
  }
  if (payment && payment.status !== status) errors.push({ field: 'status', message: `must be ${status} here` });
  if (errors.length > 0 || !payment) throw new InvalidInputError(errors);
  return withOrigin({ ...payment, payment_id, ...(payment_method !== undefined && { payment_method }) }, origin);
}
