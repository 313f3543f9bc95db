/**
 * What Billflow notifies about. Customer-facing events have customer emails; every event has
 * internal notices (in-app feed, Slack, team email). `run_failed` and `alert_digest` are
 * internal only: they tell the team that runs stopped; so is `reconciliation_failed`, the daily
 * check's finding that something was lost or counted twice, and `webhook_endpoint_disabled`.
 */
export const NOTIFICATION_EVENTS = [
  'subscription_created',
  'subscription_cancelled',
  'subscription_plan_changed',
  'trial_ending',
  'payment_succeeded',
  'payment_failed',
  'payment_recovered',
  'invoice_created',
  'invoice_overdue',
  'refund_created',
  'chargeback_created',
  'customer_disabled',
  'run_failed',
  'alert_digest',
  'reconciliation_failed',
  'webhook_endpoint_disabled',
] as const;

export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** Events that never mail the customer. */
export const INTERNAL_ONLY_EVENTS: readonly NotificationEvent[] = [
  'run_failed',
  'alert_digest',
  'reconciliation_failed',
  'webhook_endpoint_disabled',
];

/**
 * Events with their own on/off settings; a digest follows the settings of `run_failed`, and the
 * daily reconciliation's alert is always raised in the in-app feed.
 */
export const SETTINGS_EVENTS = NOTIFICATION_EVENTS.filter(
  (e) => e !== 'alert_digest' && e !== 'reconciliation_failed' && e !== 'webhook_endpoint_disabled',
);

/**
 * `email`: to the customer (subject, text, html). `internal`: to the team (subject + text: the
 * in-app title and body, and the team email). `slack`: the Slack message text (mrkdwn).
 */
export const TEMPLATE_CHANNELS = ['email', 'internal', 'slack'] as const;
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number];

export const DEFAULT_LOCALE = 'en';

export function isNotificationEvent(value: unknown): value is NotificationEvent {
  return typeof value === 'string' && (NOTIFICATION_EVENTS as readonly string[]).includes(value);
}

export function isTemplateChannel(value: unknown): value is TemplateChannel {
  return typeof value === 'string' && (TEMPLATE_CHANNELS as readonly string[]).includes(value);
}

const LOCALE = /^[a-z]{2,3}(-[A-Z][a-zA-Z0-9]{1,7})?$/;

export function isLocale(value: unknown): value is string {
  return typeof value === 'string' && LOCALE.test(value);
}

/** `de-AT` → [`de-AT`, `de`, `en`]: the most specific first, the default language last. */
export function localeChain(locale: string | undefined): string[] {
  const chain: string[] = [];
  if (locale && isLocale(locale)) {
    chain.push(locale);
    const language = locale.split('-')[0] as string;
    if (language !== locale) chain.push(language);
  }
  if (!chain.includes(DEFAULT_LOCALE)) chain.push(DEFAULT_LOCALE);
  return chain;
}

// Deliberately loose: the mail server is the judge of an address; this catches typos and
// injection (spaces, commas, angle brackets, line breaks) before anything is stored or sent.
const EMAIL = /^[^\s@<>,;"()[\]\\]+@[^\s@<>,;"()[\]\\]+\.[^\s@<>,;"()[\]\\]+$/;

export function isEmailAddress(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 254 && EMAIL.test(value);
}
