// The in-app feed (notices and failure alerts): one feed for the team, read state per reader.
// Failure alerts reach only the roles that can act on them (account_manager and above, who may
// restart runs); lower roles get the notices alone.
import { Type } from 'typebox';
import { oneOf } from '../../billing/records/schemas.ts';
import { listNotifications, markAllRead, markRead, unreadCount } from '../../notify/index.ts';
import type { NotificationKind } from '../../notify/index.ts';
import type { Principal } from '../auth/principal.ts';
import { roleAtLeast } from '../auth/roles.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idString, pageOf, pageQueryProperties, problemResponses } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { actorFrom, checkRunCursor, dateInput } from '../schemas/common.ts';
import { notificationSchema } from '../schemas/notify.ts';
import { NOTIFY_TAGS } from './notification-settings.ts';

const kind = Type.Optional(oneOf(['notice', 'alert']));
const updated = {
  type: 'object',
  required: ['updated'],
  properties: { updated: { type: 'integer', description: 'Entries that were unread and are read now.' } },
};

/**
 * The kind the caller may read given the kind asked for: undefined (both), a kind, or null when
 * the caller asked for alerts without a role that gets them.
 */
function visibleKind(
  principal: Principal | null,
  asked: NotificationKind | undefined,
): NotificationKind | undefined | null {
  if (principal && roleAtLeast(principal.role, 'account_manager')) return asked;
  return asked === 'alert' ? null : 'notice';
}

export function notificationRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      url: '/notifications',
      operationId: 'listNotifications',
      access: 'viewer',
      summary: 'The in-app feed, newest first (alerts are kind=alert)',
      description:
        '`read_at` is when the caller read the entry. Failure alerts are listed for account_manager and above ' +
        'only; `resolved_at` is set once the run completed or was cancelled.',
      tags: NOTIFY_TAGS,
      querystring: Type.Object(
        { unread_only: Type.Optional(Type.Boolean()), kind, ...pageQueryProperties },
        { additionalProperties: false },
      ),
      response: { 200: pageOf(notificationSchema), ...problemResponses() },
      async handler({ query, principal }) {
        checkRunCursor(query.cursor);
        const kind = visibleKind(principal, query.kind);
        if (kind === null) return { status: 200, body: { items: [], next_cursor: null } };
        const page = await listNotifications(
          db,
          { unreadOnly: query.unread_only, kind, reader: actorFrom(principal) },
          { limit: query.limit ?? 50, cursor: query.cursor },
        );
        return { status: 200, body: { items: page.items.map(recordView), next_cursor: page.next_cursor } };
      },
    }),
    route({
      method: 'GET',
      url: '/notifications/unread-count',
      operationId: 'countUnreadNotifications',
      access: 'viewer',
      summary: 'How many entries the caller has not read (for the badge)',
      description: 'Resolved alerts do not count; alerts count for account_manager and above only.',
      tags: NOTIFY_TAGS,
      querystring: Type.Object({ kind }, { additionalProperties: false }),
      response: {
        200: { type: 'object', required: ['unread'], properties: { unread: { type: 'integer' } } },
        ...problemResponses(),
      },
      async handler({ query, principal }) {
        const kind = visibleKind(principal, query.kind);
        if (kind === null) return { status: 200, body: { unread: 0 } };
        return { status: 200, body: { unread: await unreadCount(db, { kind, reader: actorFrom(principal) }) } };
      },
    }),
    route({
      method: 'POST',
      url: '/notifications/read',
      operationId: 'markNotificationsRead',
      access: 'viewer',
      summary: 'Mark entries read for the caller',
      tags: NOTIFY_TAGS,
      body: Type.Object(
        { ids: Type.Array(idString('ntf'), { minItems: 1, maxItems: 500 }) },
        { additionalProperties: false },
      ),
      response: { 200: updated, ...problemResponses() },
      async handler({ body, principal }) {
        return { status: 200, body: { updated: await markRead(db, actorFrom(principal), body.ids) } };
      },
    }),
    route({
      method: 'POST',
      url: '/notifications/read-all',
      operationId: 'markAllNotificationsRead',
      access: 'viewer',
      summary: 'Mark everything read for the caller, up to the newest entry they saw',
      description:
        "Pass `up_to` (that entry's created_at) so an alert arriving meanwhile stays unread, and `kind` to mark " +
        'only alerts or only notices. No body.',
      tags: NOTIFY_TAGS,
      querystring: Type.Object(
        { up_to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })), kind },
        { additionalProperties: false },
      ),
      response: { 200: updated, ...problemResponses() },
      async handler({ query, principal }) {
        const updated = await markAllRead(db, actorFrom(principal), dateInput(query.up_to, 'up_to'), {
          kind: query.kind,
        });
        return { status: 200, body: { updated } };
      },
    }),
  ];
}
