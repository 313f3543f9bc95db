// Per event: who hears about it (customer email, Slack, in-app feed, team email).
import { Type } from 'typebox';
import {
  getNotificationSettings,
  listNotificationSettings,
  resetNotificationSettings,
  updateNotificationSettings,
} from '../../billing/notifications/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { emailSchema, problemResponses } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { actorFrom } from '../schemas/common.ts';
import { settingsEventSchema, settingsSchema } from '../schemas/notify.ts';

export const NOTIFY_TAGS = ['Notifications'];

const eventParams = Type.Object({ event: settingsEventSchema }, { additionalProperties: false });

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
    route({
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
    route({
      method: 'PATCH',
      url: '/notification-settings/:event',
      operationId: 'updateNotificationSettings',
      access: 'account_manager',
      summary: "Change some of an event's settings (the rest keep their value)",
      description: 'Turning team_email on needs at least one address in team_emails.',
      tags: NOTIFY_TAGS,
      audit: 'notification_settings.update',
      params: eventParams,
      body: Type.Object(
        {
          customer_email: Type.Optional(Type.Boolean()),
          slack: Type.Optional(Type.Boolean()),
          in_app: Type.Optional(Type.Boolean()),
          team_email: Type.Optional(Type.Boolean()),
          team_emails: Type.Optional(Type.Array(emailSchema, { maxItems: 20 })),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
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
    route({
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
