// POST /refunds: the API route that starts refund_creation.
import { refundSchema } from '../../records/views.ts';
import { startRoute } from '../shared/module.ts';
import { RefundRequest } from './input.ts';
import { startRefund } from './operation.ts';

export const refundCreationRoute = startRoute({
  method: 'post',
  path: '/refunds',
  operationId: 'createRefund',
  access: 'customer_support',
  summary: 'Refund (part of) a payment (starts refund_creation)',
  description:
    'Without `amount`, everything still refundable on the payment. Never more than was paid. A payment ' +
    'recorded without a provider reference cannot be refunded at the provider: 400, unless ' +
    '`provider_refund_id` records a refund made elsewhere. A refund whose run fails before the provider ' +
    'made it becomes `failed`, one whose run is cancelled `cancelled`: neither counts nor holds its amount.',
  body: RefundRequest,
  status: 201,
  answer: { name: 'refund', schema: refundSchema },
  start: (db, registry, { body }, options) => startRefund(db, registry, body, options),
  audit: {
    action: 'refund.create',
    entry: ({ body }, started) => {
      const refund = started.record;
      return {
        target: refund.id,
        reason: body.reason ?? null,
        details: {
          payment_id: refund.payment_id,
          amount: refund.amount,
          currency: refund.currency,
          workflow_run_id: started.runId,
        },
      };
    },
  },
});
