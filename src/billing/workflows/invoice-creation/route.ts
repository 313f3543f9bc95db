// POST /invoices: the API route that starts invoice_creation.
import { invoiceSchema } from '../../records/views.ts';
import { startRoute } from '../shared/module.ts';
import { InvoiceRequest } from './input.ts';
import { startInvoice } from './operation.ts';

export const invoiceCreationRoute = startRoute({
  method: 'post',
  path: '/invoices',
  operationId: 'createInvoice',
  access: 'customer_support',
  summary: 'Create an invoice (starts invoice_creation: PDF, email, then waits for payment)',
  description: 'The total is the sum of the lines (amount × quantity), never taken from the caller.',
  body: InvoiceRequest,
  status: 201,
  answer: { name: 'invoice', schema: invoiceSchema },
  start: (db, registry, { body }, options) => startInvoice(db, registry, body, options),
});
