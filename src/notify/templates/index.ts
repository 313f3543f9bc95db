import type { NotificationEvent, TemplateChannel } from '../events.ts';
import type { TemplateSource } from '../liquid.ts';
import { EMAIL_DE } from './email-de.ts';
import { EMAIL_EN } from './email-en.ts';
import { INTERNAL_EN, SLACK_EN } from './internal-en.ts';
import type { CustomerEvent } from './types.ts';

export type { CustomerEvent } from './types.ts';

type Shipped = Partial<Record<NotificationEvent, TemplateSource>>;

// Team-facing texts ship in English only; a team reading German sets overrides for 'de'.
const SHIPPED: Record<TemplateChannel, Record<string, Shipped>> = {
  email: { en: EMAIL_EN, de: EMAIL_DE },
  internal: { en: INTERNAL_EN },
  slack: { en: SLACK_EN },
};

/** Locales with shipped templates for a channel, the default first. */
export function shippedLocales(channel: TemplateChannel): string[] {
  return Object.keys(SHIPPED[channel]);
}

/** The template shipped in code for exactly this event, channel and locale, if any. */
export function shippedTemplate(
  event: NotificationEvent,
  channel: TemplateChannel,
  locale: string,
): TemplateSource | undefined {
  const template = SHIPPED[channel][locale]?.[event];
  return template ? { ...template } : undefined;
}

export function isCustomerEvent(event: NotificationEvent): event is CustomerEvent {
  return event in EMAIL_EN;
}
