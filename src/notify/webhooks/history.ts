import type { Queryable } from '../../db/types.ts';
import { InvalidInputError, NotFoundError } from '../../errors.ts';

/** One message to one endpoint, as the API lists it. */
export interface DeliveryView {
  event_id: string;
  endpoint_id: string;
  type: string;
  run_id: string | null;
  status: 'pending' | 'delivered' | 'failed';
  attempt_count: number;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
  /** For the next page: the row's created_at as the database printed it. */
  cursor_at: string;
}

export interface AttemptView {
  id: string;
  event_id: string;
  endpoint_id: string;
  attempt: number;
  attempted_at: Date;
  ok: boolean;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  response_body: string | null;
}

/** Newest first, after the (created_at, event_id) of the previous page's last row. */
export async function listDeliveries(
  q: Queryable,
  endpointId: string,
  page: { limit: number; after: [string, string] | null; status?: string },
): Promise<DeliveryView[]> {
  const { rows } = await q.query<DeliveryView>(
    `SELECT d.event_id, d.endpoint_id, ev.type, ev.run_id, d.status, d.attempt_count,
       CASE WHEN d.status = 'pending' AND d.next_attempt_at > '-infinity' THEN d.next_attempt_at END AS next_attempt_at,
       d.last_attempt_at, d.delivered_at, d.created_at, d.created_at::text AS cursor_at
     FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
     WHERE d.endpoint_id = $1
       AND ($2::timestamptz IS NULL OR (d.created_at, d.event_id) < ($2::timestamptz, $3::text))
       AND ($4::text IS NULL OR d.status = $4)
     ORDER BY d.created_at DESC, d.event_id DESC
     LIMIT $5`,
    [endpointId, page.after?.[0] ?? null, page.after?.[1] ?? null, page.status ?? null, page.limit],
  );
  return rows;
}

/** Newest first; one message's attempts with `eventId`. */
export async function listAttempts(
  q: Queryable,
  endpointId: string,
  page: { limit: number; after: string | null; eventId?: string },
): Promise<AttemptView[]> {
  const { rows } = await q.query<AttemptView>(
    `SELECT id, event_id, endpoint_id, attempt, attempted_at, ok, status_code, error, latency_ms, response_body
     FROM webhook_attempts
     WHERE endpoint_id = $1 AND ($2::text IS NULL OR id < $2) AND ($3::text IS NULL OR event_id = $3)
     ORDER BY id DESC LIMIT $4`,
    [endpointId, page.after, page.eventId ?? null, page.limit],
  );
  return rows;
}

/**
 * Sends one message to the endpoint again, now, with a fresh retry schedule and the same
 * webhook-id — also a message the endpoint never had (subscribed later, or disabled then).
 */
export async function resendMessage(q: Queryable, endpointId: string, eventId: string, now: Date): Promise<void> {
  const { rows } = await q.query<{ event_id: string }>(
    `INSERT INTO webhook_deliveries (event_id, endpoint_id, status, next_attempt_at, created_at)
     SELECT ev.id, e.id, 'pending', '-infinity', $3
     FROM webhook_events ev, webhook_endpoints e WHERE ev.id = $2 AND e.id = $1
     ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = 'pending', next_attempt_at = '-infinity',
       round_start = webhook_deliveries.attempt_count
     RETURNING event_id`,
    [endpointId, eventId, now],
  );
  if (!rows[0]) throw new NotFoundError(`message ${eventId} or webhook endpoint ${endpointId} not found`);
}

/** Sends again every message to the endpoint that failed (schedule exhausted) and was created since `since`. */
export async function recoverFailed(q: Queryable, endpointId: string, since: Date, now: Date): Promise<number> {
  if (since.getTime() > now.getTime()) {
    throw new InvalidInputError([{ field: 'since', message: 'must not be in the future' }]);
  }
  const { rowCount } = await q.query(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = '-infinity', round_start = attempt_count
     WHERE endpoint_id = $1 AND status = 'failed' AND created_at >= $2`,
    [endpointId, since],
  );
  return rowCount;
}

/** A message a run emitted, to one endpoint, as the run's page shows it. */
export interface RunDeliveryView {
  event_id: string;
  type: string;
  endpoint_id: string;
  /** Scheme, host and port only: a receiver's path can carry a token. */
  endpoint_origin: string;
  status: 'pending' | 'delivered' | 'failed';
  attempt_count: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
  next_attempt_at: Date | null;
}

const RUN_DELIVERIES_LIMIT = 200;

/** The messages a run emitted and where each stands per endpoint, oldest first (at most 200). */
export async function listRunDeliveries(q: Queryable, runId: string): Promise<RunDeliveryView[]> {
  const { rows } = await q.query<RunDeliveryView & { url: string }>(
    `SELECT ev.id AS event_id, ev.type, d.endpoint_id, e.url, d.status, d.attempt_count,
       a.status_code AS last_status_code, a.error AS last_error, d.last_attempt_at, d.delivered_at,
       CASE WHEN d.status = 'pending' AND d.next_attempt_at > '-infinity' THEN d.next_attempt_at END AS next_attempt_at
     FROM webhook_events ev
     JOIN webhook_deliveries d ON d.event_id = ev.id
     JOIN webhook_endpoints e ON e.id = d.endpoint_id
     LEFT JOIN LATERAL (SELECT status_code, error FROM webhook_attempts t
                        WHERE t.event_id = d.event_id AND t.endpoint_id = d.endpoint_id
                        ORDER BY t.id DESC LIMIT 1) a ON true
     WHERE ev.run_id = $1
     ORDER BY ev.created_at, ev.id, d.endpoint_id
     LIMIT $2`,
    [runId, RUN_DELIVERIES_LIMIT],
  );
  return rows.map(({ url, ...row }) => ({ ...row, endpoint_origin: originOf(url) }));
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
