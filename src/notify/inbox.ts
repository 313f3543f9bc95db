import type { Queryable } from '../db/types.ts';
import { InvalidInputError } from '../errors.ts';
import type { FieldError } from '../errors.ts';
import { newId } from '../ids.ts';
import { isNotificationEvent } from './events.ts';
import type { NotificationEvent } from './events.ts';
import { decodeCursor, pageLimit, toPage } from './page.ts';
import type { Page, PageRequest } from './page.ts';

export type NotificationKind = 'notice' | 'alert';
export type Severity = 'info' | 'warning' | 'error';

/** One entry of the in-app feed. Read state is shared by the team (one feed, not per user). */
export interface InAppNotification {
  id: string;
  kind: NotificationKind;
  event: NotificationEvent;
  severity: Severity;
  title: string;
  body: string;
  run_id: string | null;
  data: Record<string, unknown>;
  read_at: Date | null;
  created_at: Date;
}

export interface NotificationInput {
  kind: NotificationKind;
  event: NotificationEvent;
  severity?: Severity;
  title: string;
  body: string;
  runId?: string | null;
  data?: Record<string, unknown>;
  /** The same key twice creates one entry (a retried step posts its notice once). */
  dedupeKey?: string;
}

const COLUMNS = 'id, kind, event, severity, title, body, run_id, data, read_at, created_at';

function check(input: NotificationInput): void {
  const errors: FieldError[] = [];
  if (input.kind !== 'notice' && input.kind !== 'alert')
    errors.push({ field: 'kind', message: 'must be notice or alert' });
  if (!isNotificationEvent(input.event)) errors.push({ field: 'event', message: 'is not a notification event' });
  if (input.severity && !['info', 'warning', 'error'].includes(input.severity)) {
    errors.push({ field: 'severity', message: 'must be info, warning or error' });
  }
  if (!input.title?.trim()) errors.push({ field: 'title', message: 'is required' });
  if (errors.length > 0) throw new InvalidInputError(errors);
}

export async function createNotification(q: Queryable, input: NotificationInput): Promise<InAppNotification> {
  check(input);
  const severity = input.severity ?? (input.kind === 'alert' ? 'error' : 'info');
  const { rows } = await q.query<InAppNotification>(
    `INSERT INTO notifications (id, kind, event, severity, title, body, run_id, data, dedupe_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING ${COLUMNS}`,
    [
      newId('ntf'),
      input.kind,
      input.event,
      severity,
      input.title.slice(0, 500),
      input.body.slice(0, 10_000),
      input.runId ?? null,
      JSON.stringify(input.data ?? {}),
      input.dedupeKey ?? null,
    ],
  );
  if (rows[0]) return rows[0];
  const existing = await q.query<InAppNotification>(`SELECT ${COLUMNS} FROM notifications WHERE dedupe_key = $1`, [
    input.dedupeKey,
  ]);
  return existing.rows[0] as InAppNotification;
}

export interface NotificationFilter {
  unreadOnly?: boolean;
  kind?: NotificationKind;
}

/** The feed, newest first, a keyset page at a time. */
export async function listNotifications(
  q: Queryable,
  filter: NotificationFilter = {},
  page: PageRequest = {},
): Promise<Page<InAppNotification>> {
  const limit = pageLimit(page.limit);
  const params: unknown[] = [limit + 1];
  const where: string[] = [];
  if (filter.unreadOnly) where.push('read_at IS NULL');
  if (filter.kind) {
    params.push(filter.kind);
    where.push(`kind = $${params.length}`);
  }
  if (page.cursor) {
    params.push(...decodeCursor(page.cursor));
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  const { rows } = await q.query<InAppNotification & { cursor_at: string }>(
    `SELECT ${COLUMNS}, created_at::text AS cursor_at FROM notifications
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    params,
  );
  return toPage(rows, limit);
}

export async function unreadCount(q: Queryable, filter: { kind?: NotificationKind } = {}): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM notifications WHERE read_at IS NULL AND ($1::text IS NULL OR kind = $1)`,
    [filter.kind ?? null],
  );
  return rows[0]?.n ?? 0;
}

/** Marks entries read; returns how many changed (already read ones do not count). */
export async function markRead(q: Queryable, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { rowCount } = await q.query(
    'UPDATE notifications SET read_at = now() WHERE id = ANY($1::text[]) AND read_at IS NULL',
    [ids],
  );
  return rowCount;
}

/**
 * Marks everything read up to `upTo` (the newest entry the reader saw), so an alert that
 * arrives while the button is pressed stays unread; with `kind`, only entries of that kind (the
 * bell marks its alerts read without touching notices it never showed).
 */
export async function markAllRead(
  q: Queryable,
  upTo?: Date,
  filter: { kind?: NotificationKind } = {},
): Promise<number> {
  const { rowCount } = await q.query(
    `UPDATE notifications SET read_at = now()
     WHERE read_at IS NULL AND ($1::timestamptz IS NULL OR created_at <= $1) AND ($2::text IS NULL OR kind = $2)`,
    [upTo ?? null, filter.kind ?? null],
  );
  return rowCount;
}
