/**
 * A notification event's name, e.g. `payment_succeeded`. Which events exist, and what ships for
 * each, is the catalogue's to say (./catalogue.ts): billing builds it from its workflow types, and
 * notify owns only the team's own alerts (./team-events.ts).
 */
export type NotificationEvent = string;

/**
 * `email`: to the customer (subject, text, html). `internal`: to the team (subject + text: the
 * in-app title and body, and the team email). `slack`: the Slack message text (mrkdwn).
 */
export const TEMPLATE_CHANNELS = ['email', 'internal', 'slack'] as const;
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number];

export const DEFAULT_LOCALE = 'en';

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
