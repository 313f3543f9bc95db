import type { Queryable } from '../db/types.ts';
import { NotFoundError } from '../errors.ts';
import { decodeCursor, pageLimit, toPage } from './page.ts';
import type { Page, PageRequest } from './page.ts';

export interface OutboxEmail {
  id: string;
  send_key: string;
  run_id: string | null;
  kind: string;
  from_address: string;
  to_addresses: string[];
  reply_to: string | null;
  subject: string;
  created_at: Date;
  attachment_count: number;
}

export interface OutboxEmailDetail extends OutboxEmail {
  text_body: string;
  html_body: string | null;
  attachments: { position: number; filename: string; content_type: string; size: number }[];
}

const COLUMNS = `o.id, o.send_key, o.run_id, o.kind, o.from_address, o.to_addresses, o.reply_to, o.subject,
  o.created_at, (SELECT count(*)::int FROM email_outbox_attachments a WHERE a.outbox_id = o.id) AS attachment_count`;

/** Emails kept because no SMTP server is configured, newest first (for the admin UI). */
export async function listOutbox(q: Queryable, page: PageRequest = {}): Promise<Page<OutboxEmail>> {
  const limit = pageLimit(page.limit);
  const params: unknown[] = [limit + 1];
  let where = '';
  if (page.cursor) {
    params.push(...decodeCursor(page.cursor));
    where = 'WHERE (o.created_at, o.id) < ($2::timestamptz, $3)';
  }
  const { rows } = await q.query<OutboxEmail & { cursor_at: string }>(
    `SELECT ${COLUMNS}, o.created_at::text AS cursor_at FROM email_outbox o ${where}
     ORDER BY o.created_at DESC, o.id DESC LIMIT $1`,
    params,
  );
  return toPage(rows, limit);
}

export async function getOutboxEmail(q: Queryable, id: string): Promise<OutboxEmailDetail> {
  const { rows } = await q.query<OutboxEmailDetail>(
    `SELECT ${COLUMNS}, o.text_body, o.html_body,
       COALESCE((SELECT json_agg(json_build_object('position', a.position, 'filename', a.filename,
         'content_type', a.content_type, 'size', octet_length(a.content)) ORDER BY a.position)
         FROM email_outbox_attachments a WHERE a.outbox_id = o.id), '[]') AS attachments
     FROM email_outbox o WHERE o.id = $1`,
    [id],
  );
  const email = rows[0];
  if (!email) throw new NotFoundError(`outbox email ${id} not found`);
  return email;
}

export async function getOutboxAttachment(
  q: Queryable,
  id: string,
  position: number,
): Promise<{ filename: string; content_type: string; content: Buffer }> {
  const { rows } = await q.query<{ filename: string; content_type: string; content: Uint8Array }>(
    'SELECT filename, content_type, content FROM email_outbox_attachments WHERE outbox_id = $1 AND position = $2',
    [id, position],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`attachment ${position} of outbox email ${id} not found`);
  // node-postgres gives a Buffer, PGlite a Uint8Array: callers get a Buffer either way.
  return { ...row, content: Buffer.from(row.content) };
}
