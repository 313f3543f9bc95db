// Record-creating operations: each writes its record and starts its run in one transaction.
export * from './options.ts';
export * from './subscriptions.ts';
export * from './refunds.ts';
export * from './chargebacks.ts';
export * from './payments.ts';
export * from './invoices.ts';
