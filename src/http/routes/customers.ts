// Customers: create, look up by email, and one customer with everything that belongs to them.
import { Type } from 'typebox';
import {
  createCustomer,
  getCustomer,
  listCustomerInvoices,
  listCustomerPayments,
  listCustomerSubscriptions,
  setCustomerPaymentMethod,
  CustomerInput,
  PaymentMethodInput,
} from '../../billing/records/index.ts';
import type { Customer } from '../../billing/records/index.ts';
import { withKnownCurrency } from '../../billing/records/schemas.ts';
import { listRuns } from '../../engine/index.ts';
import type { ApiDeps } from '../deps.ts';
import { decodeCursor, toPage } from '../pagination.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idParams, pageOf, pageQueryProperties, problemResponses } from '../schemas.ts';
import {
  customerSchema,
  invoiceSummarySchema,
  paymentSchema,
  recordView,
  subscriptionSchema,
} from '../schemas/billing.ts';
import { runSummarySchema, runSummaryView, runViewer } from '../schemas/run.ts';

export const BILLING_TAGS = ['Billing records'];

export function customerRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route({
      method: 'POST',
      url: '/customers',
      operationId: 'createCustomer',
      access: 'customer_support',
      summary: 'Create a customer',
      tags: BILLING_TAGS,
      creates: true,
      body: CustomerInput,
      response: {
        201: { type: 'object', required: ['customer'], properties: { customer: customerSchema } },
        ...problemResponses(409),
      },
      handler: ({ body, transaction }) =>
        transaction(async (tx) => {
          const customer = await createCustomer(tx, withKnownCurrency(body), { at: deps.clock() });
          return { status: 201, body: { customer: recordView(customer) } };
        }),
    }),
    route({
      method: 'PUT',
      url: '/customers/:id/payment-method',
      operationId: 'setCustomerPaymentMethod',
      access: 'customer_support',
      summary: "Set the customer's payment method on file",
      description:
        'The provider payment method (pm_…) later charges use: invoice charges without one, and every dunning ' +
        'retry of a failed payment, so a customer who updated their card is charged on the new one.',
      tags: BILLING_TAGS,
      audit: 'customer.payment_method',
      params: idParams('cus'),
      body: PaymentMethodInput,
      response: {
        200: { type: 'object', required: ['customer'], properties: { customer: customerSchema } },
        ...problemResponses(),
      },
      async handler({ params, body }) {
        const { payment_method } = body;
        const customer = await setCustomerPaymentMethod(db, params.id, payment_method);
        return {
          status: 200,
          body: { customer: recordView(customer) },
          audit: { target: customer.id, details: { payment_method } },
        };
      },
    }),
    route({
      method: 'GET',
      url: '/customers',
      operationId: 'listCustomers',
      access: 'viewer',
      summary: 'List customers, newest first (optionally by email, case-insensitive)',
      tags: BILLING_TAGS,
      querystring: Type.Object(
        { email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })), ...pageQueryProperties },
        { additionalProperties: false },
      ),
      response: { 200: pageOf(customerSchema), ...problemResponses() },
      async handler({ query }) {
        const limit = query.limit ?? 50;
        const after = decodeCursor(query.cursor, ['string']);
        const { rows } = await db.query<Customer>(
          `SELECT id, email, name, locale, currency, status, provider_customer_id, created_at, updated_at
           FROM customers
           WHERE ($1::text IS NULL OR lower(email) = lower($1)) AND ($2::text IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3`,
          [query.email?.trim() ?? null, after?.[0] ?? null, limit + 1],
        );
        return { status: 200, body: toPage(rows, limit, (c) => [c.id], recordView) };
      },
    }),
    route({
      method: 'GET',
      url: '/customers/:id',
      operationId: 'getCustomer',
      access: 'viewer',
      summary: 'A customer with their subscriptions, recent invoices and payments, and recent runs',
      tags: BILLING_TAGS,
      params: idParams('cus'),
      response: {
        200: {
          title: 'CustomerDetail',
          type: 'object',
          required: ['customer', 'subscriptions', 'invoices', 'payments', 'runs'],
          properties: {
            customer: customerSchema,
            subscriptions: { type: 'array', items: subscriptionSchema },
            invoices: { type: 'array', items: invoiceSummarySchema, description: 'The 50 newest.' },
            payments: { type: 'array', items: paymentSchema, description: 'The 50 newest.' },
            runs: { type: 'array', items: runSummarySchema, description: 'The 20 newest workflow runs.' },
          },
        },
        ...problemResponses(),
      },
      async handler({ params, principal }) {
        const customer = await getCustomer(db, params.id);
        const [subscriptions, invoices, payments, runs] = await Promise.all([
          listCustomerSubscriptions(db, customer.id, { limit: 100 }),
          listCustomerInvoices(db, customer.id, { limit: 50 }),
          listCustomerPayments(db, customer.id, { limit: 50 }),
          listRuns(db, { ownerRef: customer.id }, { limit: 20 }),
        ]);
        return {
          status: 200,
          body: {
            customer: recordView(customer),
            subscriptions: subscriptions.map(recordView),
            invoices: invoices.map(recordView),
            payments: payments.map(recordView),
            runs: runs.items.map((run) => runSummaryView(run, runViewer(principal))),
          },
        };
      },
    }),
  ];
}
