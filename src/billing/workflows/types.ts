/** The seven workflow types; these identifiers are used in the API, the database and the UI. */
export const WORKFLOW_TYPES = [
  'subscription_creation',
  'subscription_cancellation',
  'payment_success',
  'payment_failure',
  'invoice_creation',
  'refund_creation',
  'chargeback_creation',
] as const;

export type WorkflowType = (typeof WORKFLOW_TYPES)[number];
