// The API's shapes, as far as the UI reads them.

export const ROLES = ['admin', 'developer', 'account_manager', 'customer_support', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  admin: 'Admin',
  developer: 'Developer',
  account_manager: 'Account manager',
  customer_support: 'Customer support',
  viewer: 'Viewer',
};

/** True when `role` includes `min` (each role includes those below it). */
export function roleAtLeast(role: Role, min: Role): boolean {
  return ROLES.indexOf(role) <= ROLES.indexOf(min);
}

export interface Principal {
  kind: 'user' | 'api_key';
  id: string;
  role: Role;
  email: string | null;
  name: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

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

export const WORKFLOW_LABELS: Record<WorkflowType, string> = {
  subscription_creation: 'Subscription created',
  subscription_cancellation: 'Subscription cancelled',
  payment_success: 'Payment succeeded',
  payment_failure: 'Payment failed',
  invoice_creation: 'Invoice created',
  refund_creation: 'Refund issued',
  chargeback_creation: 'Chargeback',
};

/** The predefined steps of each type (for the failed-step filter). */
export const WORKFLOW_STEPS: Record<WorkflowType, string[]> = {
  subscription_creation: [
    'create_subscription_record',
    'sync_payment_provider',
    'update_stats',
    'send_customer_email',
    'send_internal_notice',
  ],
  subscription_cancellation: [
    'cancel_subscription',
    'issue_refund',
    'sync_payment_provider',
    'update_stats',
    'send_customer_email',
    'send_internal_notice',
  ],
  payment_success: [
    'record_payment',
    'generate_receipt',
    'update_stats',
    'send_customer_email',
    'send_internal_notice',
  ],
  payment_failure: [
    'record_failure',
    'send_customer_email',
    'send_internal_notice',
    'retry_payment',
    'cancel_subscriptions',
  ],
  invoice_creation: [
    'record_invoice',
    'render_invoice_pdf',
    'send_customer_email',
    'send_internal_notice',
    'await_payment',
    'send_overdue_warning',
    'await_grace_period',
    'disable_customer',
  ],
  refund_creation: [
    'record_refund',
    'execute_provider_refund',
    'update_stats',
    'send_customer_email',
    'send_internal_notice',
  ],
  chargeback_creation: ['record_chargeback', 'update_stats', 'send_customer_email', 'send_internal_notice'],
};

export function isWorkflowType(value: string): value is WorkflowType {
  return (WORKFLOW_TYPES as readonly string[]).includes(value);
}

export const RUN_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface SerializedError {
  name?: string;
  message?: string;
  stack?: string;
  code?: string;
  [key: string]: unknown;
}

export interface RunSummary {
  id: string;
  type: string;
  status: RunStatus;
  activity: 'running' | 'retrying' | 'waiting' | 'queued' | null;
  activity_until: string | null;
  current_step: string | null;
  step_index: number;
  step_count: number;
  attempt: number;
  subject_ref: string | null;
  owner_ref: string | null;
  concurrency_key: string | null;
  waiting_for: string | null;
  outcome: string | null;
  failed_step: string | null;
  error: SerializedError | null;
  created_at: string;
  started_at: string | null;
  updated_at: string;
  finished_at: string | null;
}

/** A run as GET /workflows lists it: with its customer's email. */
export interface RunListItem extends RunSummary {
  customer_email: string | null;
}

/** GET /workflows/activity: runs created per UTC hour and status. */
export interface RunActivity {
  from: string;
  to: string;
  items: { hour: string; status: RunStatus; count: number }[];
}

export interface Attempt {
  attempt: number;
  started_at?: string;
  ended_at?: string;
  duration_ms?: number;
  outcome: string;
  error?: SerializedError;
  until?: string;
  retry_in_ms?: number;
  [key: string]: unknown;
}

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'retrying' | 'waiting' | 'skipped';

export interface RunStep {
  index: number;
  name: string;
  status: StepStatus;
  attempts: Attempt[];
  output?: unknown;
  state?: unknown;
  error?: SerializedError | null;
  note?: string | null;
  idempotency_key: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface RunEvent {
  id: number;
  action: string;
  actor: string;
  reason: string | null;
  detail?: Record<string, unknown>;
  created_at: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target?: string | null;
  reason: string | null;
  source_ip: string | null;
  details?: Record<string, unknown>;
}

export interface RunDetail extends RunSummary {
  input: unknown;
  idempotency_key: string | null;
  steps: RunStep[];
  events: RunEvent[];
  audit: AuditEntry[];
  links: Record<string, string>;
}

export interface ActionResult {
  run_id: string;
  action: string;
  previous_status: string;
  status: string;
  detail: Record<string, unknown>;
}

export interface Operation {
  id: string;
  kind: string;
  name: string;
  status: 'running' | 'completed';
  matched: number;
  processed: number;
  restarted: number;
  skipped: number;
  in_progress?: number;
  completed?: number;
  failed_again?: { run_id: string; failed_step: string | null; error: SerializedError | null }[];
  created_at: string;
  finished_at: string | null;
}

export interface Notification {
  id: string;
  kind: 'notice' | 'alert';
  event: string;
  severity: 'info' | 'warning' | 'error';
  title: string;
  body?: string;
  run_id: string | null;
  data?: Record<string, unknown>;
  read_at: string | null;
  created_at: string;
}

export interface Customer {
  id: string;
  email: string;
  name: string | null;
  locale?: string;
  currency: string | null;
  status: string;
  /** The provider's payment method on file (charged by invoice charges and dunning). */
  payment_method?: string | null;
  created_at: string;
}

export interface User {
  id: string;
  email: string;
  role: Role;
  active: boolean;
  password_set: boolean;
  created_at: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface SignedIn {
  user: User;
  csrf_token: string;
  expires_at: string;
}
