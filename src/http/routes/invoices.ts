// Invoices: read one, charge it, or mark it paid (POST /invoices, which starts invoice_creation, is
// declared by its folder).
import { Type } from 'typebox';
import { chargeInvoice, payInvoice } from '../../billing/workflows/index.ts';
import { getInvoice } from '../../billing/records/index.ts';
import { ConflictError, InvalidInputError, PermanentError } from '../../errors.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idParams, problemResponses } from '../schemas.ts';
import { actorFrom, operationKey } from '../schemas/common.ts';
import { externalRef } from '../../billing/records/schemas.ts';
import { invoiceSchema, paymentSchema, recordView, startedSchema } from '../schemas/billing.ts';
import { BILLING_TAGS } from './customers.ts';
import { recordRoute } from './record-route.ts';

/**
 * The provider refusing a charge request (not declining a card: that is a failed payment) is the
 * caller's to fix, never a 5xx: an unknown payment method names the field.
 */
function providerRefusal(error: unknown): never {
  if (!(error instanceof PermanentError)) throw error;
  if (/payment method/i.test(error.message)) {
    throw new InvalidInputError([{ field: 'payment_method', message: error.message }]);
  }
  throw new ConflictError(`the payment provider refused the charge: ${error.message}`);
}

export function invoiceRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  const routes: RouteSpec[] = [
    recordRoute(db, {
      collection: '/invoices',
      operationId: 'getInvoice',
      prefix: 'inv',
      summary: 'An invoice with its lines',
      schema: invoiceSchema,
      get: getInvoice,
    }),
  ];
  const billing = deps.billing;
  if (!billing) return routes;
  routes.push(
    route({
      method: 'POST',
      url: '/invoices/:id/charge',
      operationId: 'chargeInvoice',
      access: 'customer_support',
      summary: 'Charge an open invoice through the payment provider',
      description:
        'Records the payment and starts payment_success or payment_failure. A paid or void invoice is a 409 ' +
        'with `current_status`.',
      tags: BILLING_TAGS,
      audit: 'invoice.charge',
      creates: true,
      params: idParams('inv'),
      body: Type.Object(
        {
          payment_method: Type.Optional(
            externalRef("The provider payment method (sandbox: pm_card_ok, …); defaults to the customer's on file."),
          ),
        },
        { additionalProperties: false },
      ),
      response: { 201: startedSchema('payment', paymentSchema), ...problemResponses(409) },
      async handler({ params, body, principal, request }) {
        const started = await chargeInvoice(db, { registry: billing.registry, provider: billing.provider }, params.id, {
          idempotencyKey: operationKey(actorFrom(principal), request.headers['idempotency-key']),
          now: deps.clock(),
          payment_method: body.payment_method,
        }).catch(providerRefusal);
        return {
          status: 201,
          body: { payment: recordView(started.record), workflow_run_id: started.runId },
          audit: {
            target: params.id,
            details: { payment_id: started.record.id, status: started.record.status, workflow_run_id: started.runId },
          },
        };
      },
    }),
    route({
      method: 'POST',
      url: '/invoices/:id/mark-paid',
      operationId: 'markInvoicePaid',
      access: 'customer_support',
      summary: 'Mark an invoice paid (paid outside Billflow); its run ends early',
      description: 'The body is a JSON object, `{}` or with a `note` (bank transfer ref…) kept in the run history.',
      tags: BILLING_TAGS,
      audit: 'invoice.mark_paid',
      params: idParams('inv'),
      body: Type.Object(
        { note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) },
        { additionalProperties: false },
      ),
      response: { 200: invoiceSchema, ...problemResponses(409) },
      async handler({ params, body, principal }) {
        const paid = await payInvoice(db, params.id, {
          now: deps.clock(),
          note: body.note,
          actor: actorFrom(principal),
        });
        return {
          status: 200,
          body: recordView(paid.record),
          audit: { target: params.id, reason: body.note ?? null },
        };
      },
    }),
  );
  return routes;
}
