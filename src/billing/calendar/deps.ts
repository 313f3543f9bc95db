import type { Registry } from '../../engine/index.ts';
import type { NotifyDeps } from '../../notify/index.ts';
import type { PaymentProvider } from '../../providers/index.ts';

/**
 * Who runs the subscriptions' calendar. `billflow`: renewals and trial ends start Billflow's own
 * invoices and charges. `stripe`: Stripe Billing renews and invoices, and its events start the
 * workflows instead.
 */
export const CALENDAR_OWNERS = ['billflow', 'stripe'] as const;
export type CalendarOwner = (typeof CALENDAR_OWNERS)[number];

/** Days before a trial's end on which its reminder goes out (0: none). */
export const DEFAULT_TRIAL_REMINDER_DAYS = 3;

/** What the calendar jobs need; built once by main.ts, the same for every worker. */
export interface CalendarDeps {
  /** The billing registry: renewals start invoice_creation, charges payment_success/failure. */
  registry: Registry;
  provider: PaymentProvider;
  notify: NotifyDeps;
  clock: () => Date;
  owner: CalendarOwner;
  trialReminderDays?: number;
}
