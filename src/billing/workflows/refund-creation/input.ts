// refund_creation's input: what the API accepts, and what a run stores (the id chosen for it).
import { InputReader } from '../../records/index.ts';
import { idPattern } from '../../records/validate.ts';
import { parseOrigin, withOrigin } from '../shared/origin.ts';
import type { RunOrigin } from '../shared/origin.ts';

export interface RefundRequest {
  payment_id: string;
  /** Defaults to everything still refundable. */
  amount?: number;
  reason?: string;
  /** Already refunded at the provider (an inbound event): the run links it, never refunds again. */
  provider_refund_id?: string;
}

export interface RefundCreationInput extends RefundRequest {
  refund_id: string;
  origin?: RunOrigin;
}

export function parseRefundRequest(raw: unknown): RefundRequest {
  const r = new InputReader(raw);
  const request: RefundRequest = {
    payment_id: r.string('payment_id', { required: true, pattern: idPattern('pay'), hint: 'must be a pay_ id' }),
    amount: r.amount('amount'),
    reason: r.string('reason', { max: 500 }),
    provider_refund_id: r.string('provider_refund_id'),
  };
  r.done();
  return request;
}

export function parseRefundRunInput(raw: unknown): RefundCreationInput {
  const request = parseRefundRequest(raw);
  const r = new InputReader(raw);
  const refund_id = r.string('refund_id', { required: true, pattern: idPattern('re'), hint: 'must be a re_ id' });
  r.done();
  return withOrigin({ ...request, refund_id }, parseOrigin(raw));
}
