// Notifications as billing's events make them: the catalogue (./catalogue.ts) and the notify
// functions that need it, bound to it, for the API and billing code outside the workflows (a
// workflow's steps get the same catalogue in their deps).
import { withCatalogue } from '../../notify/index.ts';
import { NOTIFICATIONS } from './catalogue.ts';

export { NOTIFICATIONS } from './catalogue.ts';
export type { NotificationEvent } from './catalogue.ts';

/** Every notification event, in catalogue order. */
export const NOTIFICATION_EVENTS = NOTIFICATIONS.events;
/** The events with settings of their own (the settings API's events). */
export const SETTINGS_EVENTS = NOTIFICATIONS.settingsEvents;
/** Events that never mail the customer. */
export const INTERNAL_ONLY_EVENTS = NOTIFICATIONS.internalOnly;
export const isNotificationEvent = NOTIFICATIONS.has;
export const shippedLocales = NOTIFICATIONS.shippedLocales;
export const shippedTemplate = NOTIFICATIONS.shippedTemplate;
export const sampleData = NOTIFICATIONS.sampleData;

export const {
  renderTemplate,
  getTemplate,
  saveTemplateOverride,
  listTemplates,
  defaultSettings,
  getNotificationSettings,
  listNotificationSettings,
  updateNotificationSettings,
  resetNotificationSettings,
  sendCustomerEmail,
  sendTeamNotice,
} = withCatalogue(NOTIFICATIONS);
