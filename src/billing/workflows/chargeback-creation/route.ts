// POST /chargebacks: the API route that starts chargeback_creation.
import { chargebackSchema } from '../../records/views.ts';
import { startRoute } from '../shared/module.ts';
import { ChargebackRequest } from './input.ts';
import { startChargeback } from './operation.ts';

export const chargebackCreationRoute = startRoute({
  method: 'post',
  path: '/chargebacks',
  operationId: 'recordChargeback',
  access: 'customer_support',
  summary: 'Record a chargeback (dispute) against a payment (starts chargeback_creation)',
  description: 'Without `amount`, the whole payment is disputed.',
  body: ChargebackRequest,
  status: 201,
  answer: { name: 'chargeback', schema: chargebackSchema },
  start: (db, registry, { body }, options) => startChargeback(db, registry, body, options),
  audit: {
    action: 'chargeback.create',
    entry: ({ body }, started) => {
      const chargeback = started.record;
      return {
        target: chargeback.id,
        reason: body.reason ?? null,
        details: { payment_id: chargeback.payment_id, amount: chargeback.amount, workflow_run_id: started.runId },
      };
    },
  },
});
