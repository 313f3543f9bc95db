import type { NotificationEvent } from '../events.ts';

/** Events that mail the customer (all but the internal-only ones). */
export type CustomerEvent = Exclude<
  NotificationEvent,
  'run_failed' | 'alert_digest' | 'reconciliation_failed' | 'webhook_endpoint_disabled'
>;
