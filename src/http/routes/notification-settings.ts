// Per event: who hears about it (customer email, Slack, in-app feed, team email).
import {
  getNotificationSettings,
  listNotificationSettings,
  resetNotificationSettings,
  updateNotificationSettings,
} from '../../billing/notifications/index.ts';
import type { NotificationEvent } from '../../billing/notifications/index.ts';
import type { SettingsPatch } from '../../notify/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { emailSchema, problemResponses } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { actorFrom } from '../schemas/common.ts';
import { settingsEventSchema, settingsSchema } from '../schemas/notify.ts';

export const NOTIFY_TAGS = ['Notifications'];

const eventParams = {
  type: 'object',
  required: ['event'],
  additionalProperties: false,
  properties: { event: settingsEventSchema },
};

export function notificationSettingsRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      url: '/notification-settings',
      operationId: 'listNotificationSettings',
      access: 'account_manager',
      summary: "Every event's notification settings",
      tags: NOTIFY_TAGS,
      response: {
        200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: settingsSchema } } },
        ...problemResponses(),
      },
      async handler() {
        return { status: 200, body: { items: (await listNotificationSettings(db)).map(recordView) } };
      },
    }),
    route<{ event: NotificationEvent }>({
      method: 'GET',
      url: '/notification-settings/:event',
      operationId: 'getNotificationSettings',
      access: 'account_manager',
      summary: "One event's notification settings",
      tags: NOTIFY_TAGS,
      params: eventParams,
      response: { 200: settingsSchema, ...problemResponses() },
      async handler({ params }) {
        return { status: 200, body: recordView(await getNotificationSettings(db, params.event)) };
      },
    }),
    route<{ event: NotificationEvent }, unknown, SettingsPatch>({
      method: 'PATCH',
      url: '/notification-settings/:event',
      operationId: 'updateNotificationSettings',
      access: 'account_manager',
      summary: "Change some of an event's settings (the rest keep their value)",
      description: 'Turning team_email on needs at least one address in team_emails.',
      tags: NOTIFY_TAGS,
      audit: 'notification_settings.update',
      params: eventParams,
      body: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          customer_email: { type: 'boolean' },
          slack: { type: 'boolean' },
          in_app: { type: 'boolean' },
          team_email: { type: 'boolean' },
          team_emails: { type: 'array', maxItems: 20, items: emailSchema },
        },
      },
      response: { 200: settingsSchema, ...problemResponses() },
      async handler(ctx) {
        const actor = actorFrom(ctx.principal);
        const settings = await db.transaction(async (tx) => {
          const saved = await updateNotificationSettings(tx, ctx.params.event, ctx.body, actor);
          await ctx.audit(tx, { target: `notification_settings:${ctx.params.event}`, details: { ...ctx.body } });
          return saved;
        });
        return { status: 200, body: recordView(settings) };
      },
    }),
    route<{ event: NotificationEvent }>({
      method: 'POST',
      url: '/notification-settings/:event/reset',
      operationId: 'resetNotificationSettings',
      access: 'account_manager',
      summary: "Put an event's settings back to the shipped defaults",
      tags: NOTIFY_TAGS,
      audit: 'notification_settings.reset',
      params: eventParams,
      response: { 200: settingsSchema, ...problemResponses() },
      async handler(ctx) {
        const settings = await db.transaction(async (tx) => {
          const reset = await resetNotificationSettings(tx, ctx.params.event);
          await ctx.audit(tx, { target: `notification_settings:${ctx.params.event}` });
          return reset;
        });
        return { status: 200, body: recordView(settings) };
      },
    }),
  ];
}
