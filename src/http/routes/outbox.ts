// The email outbox: messages kept because no SMTP server is configured, and their attachments.
import { Type } from 'typebox';
import { getOutboxAttachment, getOutboxEmail, listOutbox } from '../../notify/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idParams, idString, pageOf, pageQuery, problemResponses } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { checkRunCursor } from '../schemas/common.ts';
import { outboxDetailSchema, outboxEmailSchema } from '../schemas/notify.ts';
import { NOTIFY_TAGS } from './notification-settings.ts';

/** A file name safe inside a quoted Content-Disposition parameter. */
function dispositionOf(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export function outboxRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      url: '/outbox',
      operationId: 'listOutboxEmails',
      access: 'customer_support',
      summary: 'Emails in the outbox, newest first',
      tags: NOTIFY_TAGS,
      querystring: pageQuery({}),
      response: { 200: pageOf(outboxEmailSchema), ...problemResponses() },
      async handler({ query }) {
        // Same cursor shape as the run list: (database timestamp text, id).
        checkRunCursor(query.cursor);
        const page = await listOutbox(db, { limit: query.limit ?? 50, cursor: query.cursor });
        return { status: 200, body: { items: page.items.map(recordView), next_cursor: page.next_cursor } };
      },
    }),
    route({
      method: 'GET',
      url: '/outbox/:id',
      operationId: 'getOutboxEmail',
      access: 'customer_support',
      summary: 'One outbox email with its text, HTML and attachment list',
      tags: NOTIFY_TAGS,
      params: idParams('eml'),
      response: { 200: outboxDetailSchema, ...problemResponses() },
      async handler({ params }) {
        return { status: 200, body: recordView(await getOutboxEmail(db, params.id)) };
      },
    }),
    route({
      method: 'GET',
      url: '/outbox/:id/attachments/:position',
      operationId: 'getOutboxAttachment',
      access: 'customer_support',
      summary: 'Download an attachment of an outbox email (invoice or receipt PDF)',
      tags: NOTIFY_TAGS,
      params: Type.Object(
        { id: idString('eml'), position: Type.Integer({ minimum: 0, maximum: 1000 }) },
        { additionalProperties: false },
      ),
      response: {
        200: { type: 'string', format: 'binary', description: 'The file, with its own Content-Type.' },
        ...problemResponses(),
      },
      async handler({ params }) {
        const file = await getOutboxAttachment(db, params.id, params.position);
        return {
          status: 200,
          body: file.content,
          headers: { 'content-type': file.content_type, 'content-disposition': dispositionOf(file.filename) },
        };
      },
    }),
  ];
}
