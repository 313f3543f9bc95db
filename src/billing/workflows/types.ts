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

/** What each type is called where people read it (the admin UI's menu and filters). */
export const WORKFLOW_LABELS: Record<WorkflowType, string> = {
  subscription_creation: 'Subscription created',
  subscription_cancellation: 'Subscription cancelled',
  payment_success: 'Payment succeeded',
  payment_failure: 'Payment failed',
  invoice_creation: 'Invoice created',
  refund_creation: 'Refund issued',
  chargeback_creation: 'Chargeback',
};
