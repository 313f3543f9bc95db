// POST /payments: the API route both payment types share (the status picks the type).
import { paymentSchema } from '../../records/views.ts';
import { startRoute } from './module.ts';
import { PaymentRequest } from './payment-input.ts';
import { startPayment } from './payment-operation.ts';

export const paymentRoute = startRoute({
  method: 'post',
  path: '/payments',
  operationId: 'recordPayment',
  access: 'customer_support',
  summary: 'Record a payment processed elsewhere (starts payment_success or payment_failure)',
  description: 'A failed payment needs `failure_code` (e.g. insufficient_funds); dunning charges it again.',
  body: PaymentRequest,
  status: 201,
  answer: { name: 'payment', schema: paymentSchema },
  start: (db, registry, { body }, options) => startPayment(db, registry, body, options),
});
