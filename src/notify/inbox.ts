import type { Queryable } from '../db/types.ts';
import { InvalidInputError } from '../errors.ts';
import type { FieldError } from '../errors.ts';
import { newId } from '../ids.ts';
import { emitEvent } from './webhooks/emit.ts';
import type { NotificationEvent } from './events.ts';
import { decodeCursor, pageLimit, toPage } from './page.ts';
import type { Page, PageRequest } from './page.ts';

export type NotificationKind = 'notice' | 'alert';
export type Severity = 'info' | 'warning' | 'error';

/**
 * One entry of the in-app feed: one feed for the team, read state per reader (`read_at` is when
 * the reader asking read it). Alerts resolve themselves when their run completes or is cancelled.
 */
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
  resolved_at: Date | null;
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

const COLUMNS =
  'id, kind, event, severity, title, body, run_id, data, NULL::timestamptz AS read_at, resolved_at, created_at';

/** The entry's columns as `reader` ($1) sees them: read when read one by one or under a mark. */
const READER_COLUMNS = `n.id, n.kind, n.event, n.severity, n.title, n.body, n.run_id, n.data,
  coalesce(rd.read_at, CASE WHEN n.created_at <= mk.up_to THEN mk.up_to END) AS read_at,
  n.resolved_at, n.created_at`;
const READER_JOINS = `LEFT JOIN notification_reads rd ON rd.reader = $1 AND rd.notification_id = n.id
  LEFT JOIN notification_read_marks mk ON mk.reader = $1 AND mk.kind = n.kind`;
const UNREAD = `rd.read_at IS NULL AND (mk.up_to IS NULL OR n.created_at > mk.up_to)`;

const EVENT_NAME = /^[a-z][a-z_]*$/;

function check(input: NotificationInput): void {
  const errors: FieldError[] = [];
  if (input.kind !== 'notice' && input.kind !== 'alert')
    errors.push({ field: 'kind', message: 'must be notice or alert' });
  // The senders name their events in code (typed by their catalogue); this catches a stray value.
  if (typeof input.event !== 'string' || !EVENT_NAME.test(input.event)) {
    errors.push({ field: 'event', message: 'is not a notification event' });
  }
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
    { name: 'billflow_insert_notification' },
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
  /** Whose read state to show (`user:usr_…`, `api_key:key_…`); without one, nothing reads as read. */
  reader?: string;
}

function checkReader(reader: string): void {
  if (!reader.trim()) throw new InvalidInputError([{ field: 'reader', message: 'is required' }]);
}

/** The feed, newest first, a keyset page at a time. */
export async function listNotifications(
  q: Queryable,
  filter: NotificationFilter = {},
  page: PageRequest = {},
): Promise<Page<InAppNotification>> {
  const limit = pageLimit(page.limit);
  const params: unknown[] = [filter.reader ?? '', limit + 1];
  const where: string[] = [];
  if (filter.unreadOnly) where.push(UNREAD, `(n.kind <> 'alert' OR n.resolved_at IS NULL)`);
  if (filter.kind) {
    params.push(filter.kind);
    where.push(`n.kind = $${params.length}`);
  }
  if (page.cursor) {
    params.push(...decodeCursor(page.cursor));
    where.push(`(n.created_at, n.id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  const { rows } = await q.query<InAppNotification & { cursor_at: string }>(
    `SELECT ${READER_COLUMNS}, n.created_at::text AS cursor_at FROM notifications n ${READER_JOINS}
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY n.created_at DESC, n.id DESC LIMIT $2`,
    params,
  );
  return toPage(rows, limit);
}

/**
 * How many entries `reader` has not read; resolved alerts do not count (nothing is left to do).
 * Without a reader, every entry counts as unread.
 */
export async function unreadCount(
  q: Queryable,
  filter: { kind?: NotificationKind; reader?: string } = {},
): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM notifications n ${READER_JOINS}
     WHERE ${UNREAD} AND (n.kind <> 'alert' OR n.resolved_at IS NULL) AND ($2::text IS NULL OR n.kind = $2)`,
    [filter.reader ?? '', filter.kind ?? null],
  );
  return rows[0]?.n ?? 0;
}

/** Marks entries read for `reader`; returns how many changed (already read ones do not count). */
export async function markRead(q: Queryable, reader: string, ids: string[]): Promise<number> {
  checkReader(reader);
  if (ids.length === 0) return 0;
  const { rowCount } = await q.query(
    `INSERT INTO notification_reads (reader, notification_id, read_at)
     SELECT $1, n.id, now() FROM notifications n
       LEFT JOIN notification_read_marks mk ON mk.reader = $1 AND mk.kind = n.kind
     WHERE n.id = ANY($2::text[]) AND (mk.up_to IS NULL OR n.created_at > mk.up_to)
     ON CONFLICT (reader, notification_id) DO NOTHING`,
    [reader, ids],
  );
  return rowCount;
}

/**
 * Marks everything read for `reader` up to `upTo` (the newest entry the reader saw), so an
 * alert that arrives while the button is pressed stays unread; with `kind`, only entries of that
 * kind (the bell marks its alerts read without touching notices it never showed). Returns how
 * many entries were unread and are read now.
 */
export async function markAllRead(
  q: Queryable,
  reader: string,
  upTo?: Date,
  filter: { kind?: NotificationKind } = {},
): Promise<number> {
  checkReader(reader);
  const { rows } = await q.query<{ n: number }>(
    `WITH upto AS (SELECT coalesce($2::timestamptz, now()) AS at),
     newly AS (
       SELECT count(*)::int AS n FROM notifications n ${READER_JOINS}, upto
       WHERE ${UNREAD} AND n.created_at <= upto.at AND ($3::text IS NULL OR n.kind = $3)),
     marked AS (
       INSERT INTO notification_read_marks (reader, kind, up_to)
       SELECT $1, k.kind, upto.at FROM upto, unnest(ARRAY['notice', 'alert']) AS k(kind)
       WHERE $3::text IS NULL OR k.kind = $3
       ON CONFLICT (reader, kind) DO UPDATE
       SET up_to = greatest(notification_read_marks.up_to, excluded.up_to))
     SELECT n FROM newly`,
    [reader, upTo ?? null, filter.kind ?? null],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Resolves the open failure alerts whose run has since completed or been cancelled: nobody has
 * anything left to do about them. Reads only open alerts. Returns how many it resolved.
 */
export async function resolveFinishedAlerts(q: Queryable): Promise<number> {
  // A failed run that completed after all is `workflow_run.recovered`, told before its alert is
  // resolved and keyed by the alert: a crash between the two re-tells nothing on the next pass.
  const { rows } = await q.query<{ id: string; run_id: string; type: string; finished_at: Date | null }>(
    `SELECT n.id, r.id AS run_id, r.type, r.finished_at FROM notifications n JOIN workflow_runs r ON r.id = n.run_id
     WHERE n.kind = 'alert' AND n.event = 'run_failed' AND n.resolved_at IS NULL AND r.status = 'completed'`,
  );
  for (const alert of rows) {
    await emitEvent(q, {
      type: 'workflow_run.recovered',
      payload: { id: alert.run_id, type: alert.type, status: 'completed', finished_at: alert.finished_at },
      runId: alert.run_id,
      key: `workflow_run.recovered:${alert.id}`,
    });
  }
  const { rowCount } = await q.query(
    `UPDATE notifications n SET resolved_at = coalesce(r.finished_at, now())
     FROM workflow_runs r
     WHERE n.kind = 'alert' AND n.resolved_at IS NULL AND r.id = n.run_id
       AND r.status IN ('completed', 'cancelled')`,
  );
  return rowCount;
}
