// The in-app feed (notices and failure alerts): one feed for the team, read state shared.
import { listNotifications, markAllRead, markRead, unreadCount } from '../../notify/index.ts';
import type { NotificationKind } from '../../notify/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idString, pageOf, pageQueryProperties, problemResponses } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { checkRunCursor, dateInput } from '../schemas/common.ts';
import { notificationSchema } from '../schemas/notify.ts';
import { NOTIFY_TAGS } from './notification-settings.ts';

const kind = { type: 'string', enum: ['notice', 'alert'] };
const updated = {
  type: 'object',
  required: ['updated'],
  properties: { updated: { type: 'integer', description: 'Entries that were unread and are read now.' } },
};

interface ListQuery {
  unread_only?: boolean;
  kind?: NotificationKind;
  limit?: number;
  cursor?: string;
}

export function notificationRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route<unknown, ListQuery>({
      method: 'GET',
      url: '/notifications',
      operationId: 'listNotifications',
      access: 'viewer',
      summary: 'The in-app feed, newest first (alerts are kind=alert)',
      tags: NOTIFY_TAGS,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { unread_only: { type: 'boolean' }, kind, ...pageQueryProperties },
      },
      response: { 200: pageOf(notificationSchema), ...problemResponses() },
      async handler({ query }) {
        checkRunCursor(query.cursor);
        const page = await listNotifications(
          db,
          { unreadOnly: query.unread_only, kind: query.kind },
          { limit: query.limit ?? 50, cursor: query.cursor },
        );
        return { status: 200, body: { items: page.items.map(recordView), next_cursor: page.next_cursor } };
      },
    }),
    route<unknown, { kind?: NotificationKind }>({
      method: 'GET',
      url: '/notifications/unread-count',
      operationId: 'countUnreadNotifications',
      access: 'viewer',
      summary: 'How many entries are unread (for the badge)',
      tags: NOTIFY_TAGS,
      querystring: { type: 'object', additionalProperties: false, properties: { kind } },
      response: {
        200: { type: 'object', required: ['unread'], properties: { unread: { type: 'integer' } } },
        ...problemResponses(),
      },
      async handler({ query }) {
        return { status: 200, body: { unread: await unreadCount(db, { kind: query.kind }) } };
      },
    }),
    route<unknown, unknown, { ids: string[] }>({
      method: 'POST',
      url: '/notifications/read',
      operationId: 'markNotificationsRead',
      access: 'viewer',
      summary: 'Mark entries read',
      tags: NOTIFY_TAGS,
      body: {
        type: 'object',
        required: ['ids'],
        additionalProperties: false,
        properties: { ids: { type: 'array', minItems: 1, maxItems: 500, items: idString('ntf') } },
      },
      response: { 200: updated, ...problemResponses() },
      async handler({ body }) {
        return { status: 200, body: { updated: await markRead(db, body.ids) } };
      },
    }),
    route<unknown, { up_to?: string; kind?: NotificationKind }>({
      method: 'POST',
      url: '/notifications/read-all',
      operationId: 'markAllNotificationsRead',
      access: 'viewer',
      summary: 'Mark everything read, up to the newest entry the reader saw',
      description:
        "Pass `up_to` (that entry's created_at) so an alert arriving meanwhile stays unread, and `kind` to mark " +
        'only alerts or only notices. No body.',
      tags: NOTIFY_TAGS,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { up_to: { type: 'string', format: 'date-time', maxLength: 40 }, kind },
      },
      response: { 200: updated, ...problemResponses() },
      async handler({ query }) {
        const updated = await markAllRead(db, dateInput(query.up_to, 'up_to'), { kind: query.kind });
        return { status: 200, body: { updated } };
      },
    }),
  ];
}
