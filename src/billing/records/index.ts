// Billing records: plain functions over a Queryable (the database or a db step's `ctx.tx`).
// Inserts never open their own transaction, so a workflow step's writes commit exactly once
// with the step. Their inputs' schemas (TypeBox, in schemas.ts and beside each record) check
// bad input with every bad field named.
export * from './customers.ts';
export * from './plans.ts';
export * from './subscriptions.ts';
export * from './invoices.ts';
export * from './payments.ts';
export * from './refunds.ts';
export * from './chargebacks.ts';
export * from './receipts.ts';
export * from './money.ts';
export * from './proration.ts';
export { formatDocumentNumber } from './numbering.ts';
export type { DocumentKind } from './numbering.ts';
export * from './plan-changes.ts';
