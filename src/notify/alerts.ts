import type { Queryable } from '../db/types.ts';
import { newId } from '../ids.ts';
import { DELIVERY_LEASE_MS, deliverAlertMessage } from './alert-delivery.ts';
import type { AlertEvent, NotifyDeps } from './deps.ts';
import { runUrl, withCompany } from './deps.ts';
import { createNotification } from './inbox.ts';
import { getNotificationSettings } from './settings.ts';
import { enabledSlackTargets } from './slack-endpoints.ts';
import { TEAM_CATALOGUE } from './team-events.ts';
import { renderTemplate } from './templates.ts';

/** The storm cap: at most `maxPerWindow` outside alert messages in any `windowMs`. */
export interface AlertPolicy {
  maxPerWindow: number;
  windowMs: number;
}

export const DEFAULT_ALERT_POLICY: AlertPolicy = { maxPerWindow: 5, windowMs: 10 * 60_000 };

export interface AlertDeps extends NotifyDeps {
  policy?: AlertPolicy;
}

export interface FailureAlert {
  runId: string;
  type: string;
  step: string;
  error: unknown;
  /** The same key twice raises one alert (e.g. the run id and its failure count). */
  dedupeKey?: string;
}

export interface RaiseResult {
  alert_id: number | null;
  notification_id: string;
  /**
   * sent: Slack/email went out now · queued_for_digest: over the cap, the next digest carries
   * it · retry_scheduled: delivery failed, a flush retries it · in_app_only: no outside channel
   * configured · duplicate: raised before under the same dedupe key.
   */
  delivery: 'sent' | 'queued_for_digest' | 'retry_scheduled' | 'in_app_only' | 'duplicate';
}

function errorMessage(error: unknown): string {
  const message =
    error instanceof Error
      ? error.message
      : typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string'
        ? (error as { message: string }).message
        : String(error);
  return message.slice(0, 1000);
}

// Takes one slot of the sliding window if one is free. One UPDATE of one row: concurrent
// workers queue on its lock and each re-checks the window, so the cap holds across processes.
const PRUNED = `ARRAY(SELECT t FROM unnest(recent) AS t WHERE t > $1::timestamptz - $2::int * interval '1 millisecond' ORDER BY t)`;
const TAKE_SLOT = `UPDATE alert_throttle SET recent = ${PRUNED} || $1::timestamptz
  WHERE name = 'run_failed' AND cardinality(${PRUNED}) < $3::int`;

/**
 * Announces a run that reached `failed`: always an in-app alert; Slack and team email per the
 * `run_failed` settings, at most `maxPerWindow` messages per window. Beyond the cap the alert
 * waits in the database for `flushAlertDigest`, which sends the waiting ones as one digest.
 * Delivery problems are recorded and retried by the flush, not thrown.
 */
export async function raiseFailureAlert(q: Queryable, deps: AlertDeps, alert: FailureAlert): Promise<RaiseResult> {
  const policy = deps.policy ?? DEFAULT_ALERT_POLICY;
  const now = deps.clock();
  const error = errorMessage(alert.error);
  const run = { id: alert.runId, type: alert.type, step: alert.step, error, url: runUrl(deps, alert.runId) };
  const text = await renderTemplate(q, TEAM_CATALOGUE, {
    event: 'run_failed',
    channel: 'internal',
    data: withCompany(deps, { run }),
  });
  const notification = await createNotification(q, {
    kind: 'alert',
    event: 'run_failed',
    title: text.subject,
    body: text.body,
    runId: alert.runId,
    data: { type: alert.type, step: alert.step },
    dedupeKey: alert.dedupeKey ? `run_failed:${alert.dedupeKey}` : undefined,
  });
  const settings = await getNotificationSettings(q, TEAM_CATALOGUE, 'run_failed');
  const outside =
    (settings.slack && (await enabledSlackTargets(q)).length > 0) ||
    (settings.team_email && settings.team_emails.length > 0);
  const inserted = await q.query<{ id: number }>(
    `INSERT INTO failure_alerts (run_id, workflow_type, step, error, dedupe_key, state, notification_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING id::int AS id`,
    [
      alert.runId,
      alert.type,
      alert.step,
      error,
      alert.dedupeKey ?? null,
      outside ? 'waiting' : 'in_app_only',
      notification.id,
      now,
    ],
  );
  const alertId = inserted.rows[0]?.id;
  if (alertId === undefined) return { alert_id: null, notification_id: notification.id, delivery: 'duplicate' };
  const raised = (delivery: AlertEvent['delivery']): RaiseResult => {
    try {
      deps.onAlert?.({ type: alert.type, step: alert.step, delivery });
    } catch {
      // Counting an alert must never change it.
    }
    return { alert_id: alertId, notification_id: notification.id, delivery };
  };
  if (!outside) return raised('in_app_only');

  // Sent alone only if no earlier alert waits for a digest, so alerts never overtake each other.
  const messageId = newId('alm');
  const granted = await q.query<{ id: string }>(
    `WITH slot AS (${TAKE_SLOT}
       AND NOT EXISTS (SELECT 1 FROM failure_alerts WHERE state = 'waiting' AND id < $4::bigint)
       RETURNING 1),
     mine AS (UPDATE failure_alerts SET state = 'single', message_id = $5
       WHERE id = $4::bigint AND state = 'waiting' AND EXISTS (SELECT 1 FROM slot) RETURNING id)
     INSERT INTO alert_messages (id, kind, status, alert_count, next_attempt_at, created_at)
     SELECT $5, 'single', 'pending', 1, $6::timestamptz, $1 FROM mine RETURNING id`,
    [now, policy.windowMs, policy.maxPerWindow, alertId, messageId, new Date(now.getTime() + DELIVERY_LEASE_MS)],
  );
  if (granted.rowCount === 0) return raised('queued_for_digest');
  const delivered = await deliverAlertMessage(q, deps, messageId);
  return raised(delivered ? 'sent' : 'retry_scheduled');
}

export interface FlushResult {
  /** Alert messages whose earlier delivery failed or was cut off, delivered again now. */
  retried: number;
  digest: { message_id: string; alert_count: number; delivered: boolean } | null;
  /** Alerts still waiting for a digest (the cap is reached). */
  waiting: number;
}

/**
 * For the worker's poll: retries alert messages that are due, then, if alerts wait and the cap
 * allows, sends them as one digest. The digest and the alerts it carries are claimed in one
 * statement, so two workers never send two digests of the same alerts, and a crash before
 * delivery leaves the digest pending for the next flush (never lost, never sent twice).
 */
export async function flushAlertDigest(q: Queryable, deps: AlertDeps): Promise<FlushResult> {
  const policy = deps.policy ?? DEFAULT_ALERT_POLICY;
  const now = deps.clock();
  const lease = new Date(now.getTime() + DELIVERY_LEASE_MS);
  const due = await q.query<{ id: string }>(
    `UPDATE alert_messages SET next_attempt_at = $2
     WHERE id IN (SELECT id FROM alert_messages WHERE status = 'pending' AND next_attempt_at <= $1
                  ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [now, lease],
  );
  for (const { id } of due.rows) await deliverAlertMessage(q, deps, id);

  const messageId = newId('alm');
  const claimed = await q.query<{ id: string; alert_count: number }>(
    `WITH slot AS (${TAKE_SLOT}
       AND EXISTS (SELECT 1 FROM failure_alerts WHERE state = 'waiting')
       RETURNING 1),
     claimed AS (UPDATE failure_alerts SET state = 'digest', message_id = $4
       WHERE state = 'waiting' AND EXISTS (SELECT 1 FROM slot) RETURNING id)
     INSERT INTO alert_messages (id, kind, status, alert_count, next_attempt_at, created_at)
     SELECT $4, 'digest', 'pending', count(*), $5::timestamptz, $1 FROM claimed HAVING count(*) > 0
     RETURNING id, alert_count`,
    [now, policy.windowMs, policy.maxPerWindow, messageId, lease],
  );
  const digest = claimed.rows[0];
  const delivered = digest ? await deliverAlertMessage(q, deps, digest.id) : false;
  const waiting = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM failure_alerts WHERE state = 'waiting'`);
  return {
    retried: due.rowCount,
    digest: digest ? { message_id: digest.id, alert_count: digest.alert_count, delivered } : null,
    waiting: waiting.rows[0]?.n ?? 0,
  };
}
