import type { TemplateChannel } from './events.ts';
import type { TemplateSource } from './liquid.ts';

/** Shipped texts of one channel, by locale (`en` is the fallback of every other locale). */
export type LocaleTemplates = Readonly<Record<string, TemplateSource>>;

/**
 * What Billflow ships for one notification event: its texts and the sample data the editor
 * previews with. The sample is the documented contract of the variables the texts may use (the
 * code that sends the event passes data of this shape); amounts are integer minor units.
 */
export interface EventNotification {
  /** The customer email (subject, text, html); absent for events only the team hears of. */
  email?: LocaleTemplates;
  /** The team's texts: `subject` the in-app title and team email subject, `body` their text. */
  internal: LocaleTemplates;
  /** The Slack message (mrkdwn; data is escaped so a customer name cannot ping a channel). */
  slack: LocaleTemplates;
  sample: Readonly<Record<string, unknown>>;
  /**
   * False for an event without settings of its own (it follows another event's, or is always
   * raised in the in-app feed): the settings API does not offer it.
   */
  settings?: false;
}

/** Some events and what ships for each, keyed by event name, in the order they are listed. */
export type EventNotifications<E extends string = string> = Readonly<Record<E, EventNotification>>;

/**
 * Every notification event with its shipped texts and samples. notify knows none of the billing
 * events itself: billing builds the catalogue from its workflow types and hands it to the
 * functions that need it (rendering, the template store, settings, sending).
 */
export interface NotificationCatalogue<E extends string = string> {
  /** Every event, in catalogue order. */
  events: readonly E[];
  /** The events with their own settings, in catalogue order. */
  settingsEvents: readonly E[];
  /** Events that never mail the customer (nothing ships for them on the email channel). */
  internalOnly: readonly E[];
  has(value: unknown): value is E;
  /** Locales with shipped templates for a channel, the default first. */
  shippedLocales(channel: TemplateChannel): string[];
  /** A copy of the template shipped for exactly this event, channel and locale, if any. */
  shippedTemplate(event: E, channel: TemplateChannel, locale: string): TemplateSource | undefined;
  /** A fresh copy of the event's sample data, safe to modify. */
  sampleData(event: E): Record<string, unknown>;
}

/** One catalogue from the parts that own the events; an event named twice is a mistake. */
export function notificationCatalogue<E extends string>(
  ...parts: readonly Partial<EventNotifications<E>>[]
): NotificationCatalogue<E> {
  const byEvent = new Map<E, EventNotification>();
  for (const part of parts) {
    for (const [event, shipped] of Object.entries(part) as [E, EventNotification][]) {
      if (byEvent.has(event)) throw new Error(`notification event ${event} is shipped twice`);
      byEvent.set(event, shipped);
    }
  }
  const events = [...byEvent.keys()];
  const channelOf = (shipped: EventNotification, channel: TemplateChannel) => shipped[channel] ?? {};
  return {
    events,
    settingsEvents: events.filter((e) => byEvent.get(e)?.settings !== false),
    internalOnly: events.filter((e) => !byEvent.get(e)?.email),
    has: (value): value is E => typeof value === 'string' && byEvent.has(value as E),
    shippedLocales(channel) {
      const locales = new Set<string>(['en']);
      for (const shipped of byEvent.values()) for (const l of Object.keys(channelOf(shipped, channel))) locales.add(l);
      return [...locales];
    },
    shippedTemplate(event, channel, locale) {
      const shipped = byEvent.get(event);
      const template = shipped ? channelOf(shipped, channel)[locale] : undefined;
      return template ? { ...template } : undefined;
    },
    sampleData(event) {
      return structuredClone({ ...byEvent.get(event)?.sample });
    },
  };
}
