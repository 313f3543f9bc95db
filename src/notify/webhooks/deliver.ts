import type { Db, Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { createNotification } from '../inbox.ts';
import { TEAM_CATALOGUE } from '../team-events.ts';
import { renderTemplate } from '../templates.ts';
import { signWebhook } from '../webhook.ts';
import type { Resolver, UrlGuard } from './guard.ts';
import { postGuarded } from './post.ts';
import type { PostResult } from './post.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The wait after each failed attempt: 13 attempts over about three and a quarter days. After
 * the last one the message is `failed` (a resend or a recover starts the schedule over).
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  ...Array<number>(7).fill(10 * HOUR),
];

/** An endpoint whose every attempt failed for this long is disabled, and an alert raised. */
export const DISABLE_AFTER_MS = 5 * 24 * HOUR;

export interface WebhookDeliveryDeps {
  clock: () => Date;
  guard: UrlGuard;
  resolver?: Resolver;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Messages claimed per pass; default 20. */
  batchSize?: number;
  adminUrl?: string;
  /** Each attempt once recorded (metrics): what became of the message, and whether the endpoint was disabled. */
  onAttempt?: (event: WebhookAttemptEvent) => void;
}

export interface WebhookAttemptEvent {
  /** `retry_scheduled`: tried again later; `gave_up`: the schedule ran out, the message failed. */
  outcome: 'delivered' | 'retry_scheduled' | 'gave_up';
  latencyMs: number;
  endpointDisabled: boolean;
}

interface Claimed {
  event_id: string;
  endpoint_id: string;
  attempt_count: number;
  round_start: number;
  type: string;
  payload: unknown;
  run_id: string | null;
  event_time: Date;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

// Claims due messages of enabled endpoints. Claiming pushes next_attempt_at past the request's
// timeout (a lease): another worker skips the row now (SKIP LOCKED) and after (not due), and if
// this worker dies mid-request the row is due again once the lease ends — at least once.
const CLAIM = `
  WITH due AS (
    SELECT d.event_id, d.endpoint_id FROM webhook_deliveries d
    JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1
    ORDER BY d.next_attempt_at, d.created_at
    LIMIT $2
    FOR UPDATE OF d SKIP LOCKED)
  UPDATE webhook_deliveries d SET next_attempt_at = $3, attempt_count = d.attempt_count + 1, last_attempt_at = $1
  FROM due, webhook_events ev, webhook_endpoints e
  WHERE d.event_id = due.event_id AND d.endpoint_id = due.endpoint_id AND ev.id = d.event_id AND e.id = d.endpoint_id
  RETURNING d.event_id, d.endpoint_id, d.attempt_count, d.round_start, ev.type, ev.payload, ev.run_id,
    ev.created_at AS event_time, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at`;

/** The Standard Webhooks body: type, the event's time, its run, and the record. */
export function webhookBody(event: {
  type: string;
  event_time: Date;
  run_id: string | null;
  payload: unknown;
}): string {
  const payload = typeof event.payload === 'string' ? (JSON.parse(event.payload) as unknown) : event.payload;
  return JSON.stringify({
    type: event.type,
    timestamp: new Date(event.event_time).toISOString(),
    run_id: event.run_id,
    data: payload,
  });
}

/** Headers for one attempt: signed by the current secret, and by the previous one while it lasts. */
export function deliveryHeaders(message: Claimed, now: Date, body: string): Record<string, string> {
  const headers = signWebhook(message.secret, message.event_id, now, body);
  const previousValid =
    message.previous_secret &&
    message.previous_secret_expires_at &&
    new Date(message.previous_secret_expires_at).getTime() > now.getTime();
  if (previousValid && message.previous_secret) {
    const old = signWebhook(message.previous_secret, message.event_id, now, body)['webhook-signature'];
    headers['webhook-signature'] = `${headers['webhook-signature']} ${old}`;
  }
  return headers;
}

async function raiseDisabledAlert(q: Queryable, deps: WebhookDeliveryDeps, endpoint: { id: string; url: string }) {
  const url = deps.adminUrl ? `${deps.adminUrl.replace(/\/+$/, '')}/settings/webhooks` : undefined;
  const origin = (() => {
    try {
      return new URL(endpoint.url).origin;
    } catch {
      return endpoint.url;
    }
  })();
  const data = { endpoint: { id: endpoint.id, origin }, days: DISABLE_AFTER_MS / (24 * HOUR), url };
  const text = await renderTemplate(q, TEAM_CATALOGUE, {
    event: 'webhook_endpoint_disabled',
    channel: 'internal',
    data,
  });
  await createNotification(q, {
    kind: 'alert',
    event: 'webhook_endpoint_disabled',
    severity: 'error',
    title: text.subject,
    body: text.body,
    data: { endpoint_id: endpoint.id },
    dedupeKey: `webhook_endpoint_disabled:${endpoint.id}:${deps.clock().toISOString()}`,
  });
}

/** Records one attempt and what follows from it, unless another worker took the message over. */
async function record(
  db: Db,
  deps: WebhookDeliveryDeps,
  message: Claimed,
  now: Date,
  result: PostResult,
): Promise<WebhookAttemptEvent> {
  const event: WebhookAttemptEvent = { outcome: 'delivered', latencyMs: result.latencyMs, endpointDisabled: false };
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO webhook_attempts (id, event_id, endpoint_id, attempt, attempted_at, ok, status_code, error, latency_ms, response_body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        newId('wha'),
        message.event_id,
        message.endpoint_id,
        message.attempt_count,
        now,
        result.ok,
        result.status,
        result.error?.slice(0, 1000) ?? null,
        result.latencyMs,
        result.body,
      ],
    );
    const fence = [message.event_id, message.endpoint_id, message.attempt_count];
    if (result.ok) {
      await tx.query(
        `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $4, next_attempt_at = NULL
         WHERE event_id = $1 AND endpoint_id = $2 AND attempt_count = $3 AND status = 'pending'`,
        [...fence, now],
      );
      await tx.query(`UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, [
        message.endpoint_id,
      ]);
      return;
    }
    const delay = RETRY_SCHEDULE_MS[message.attempt_count - message.round_start - 1];
    event.outcome = delay === undefined ? 'gave_up' : 'retry_scheduled';
    await tx.query(
      `UPDATE webhook_deliveries SET status = $4, next_attempt_at = $5
       WHERE event_id = $1 AND endpoint_id = $2 AND attempt_count = $3 AND status = 'pending'`,
      [
        ...fence,
        delay === undefined ? 'failed' : 'pending',
        delay === undefined ? null : new Date(now.getTime() + delay),
      ],
    );
    // The failure streak: locked, so two workers failing at once disable (and alert) once.
    const { rows } = await tx.query<{ url: string; enabled: boolean; failing_since: Date | null }>(
      'SELECT url, enabled, failing_since FROM webhook_endpoints WHERE id = $1 FOR UPDATE',
      [message.endpoint_id],
    );
    const endpoint = rows[0];
    if (!endpoint) return;
    const since = endpoint.failing_since ? new Date(endpoint.failing_since) : now;
    const disable = endpoint.enabled && now.getTime() - since.getTime() >= DISABLE_AFTER_MS;
    await tx.query(
      `UPDATE webhook_endpoints SET failing_since = $2,
         enabled = enabled AND NOT $3::boolean,
         disabled_reason = CASE WHEN $3::boolean THEN 'every delivery failed for 5 days' ELSE disabled_reason END,
         updated_at = CASE WHEN $3::boolean THEN $4 ELSE updated_at END
       WHERE id = $1`,
      [message.endpoint_id, since, disable, now],
    );
    if (disable) await raiseDisabledAlert(tx, deps, { id: message.endpoint_id, url: endpoint.url });
    event.endpointDisabled = disable;
  });
  return event;
}

export interface DeliveryPass {
  attempted: number;
  delivered: number;
  failed: number;
}

/** One pass: claims the due messages and sends each once, in parallel; records every attempt. */
export async function deliverDueWebhooks(db: Db, deps: WebhookDeliveryDeps): Promise<DeliveryPass> {
  const now = deps.clock();
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const lease = new Date(now.getTime() + timeoutMs + 60_000);
  const { rows } = await db.query<Claimed>(CLAIM, [now, deps.batchSize ?? 20, lease], {
    name: 'billflow_claim_webhook_deliveries',
  });
  const results = await Promise.all(
    rows.map(async (message) => {
      const sentAt = deps.clock();
      const body = webhookBody(message);
      const result = await postGuarded(message.url, body, deliveryHeaders(message, sentAt, body), {
        guard: deps.guard,
        resolver: deps.resolver,
        timeoutMs,
      });
      const recorded = await record(db, deps, message, sentAt, result);
      deps.onAttempt?.(recorded);
      return result.ok;
    }),
  );
  const delivered = results.filter(Boolean).length;
  return { attempted: results.length, delivered, failed: results.length - delivered };
}

export interface WebhookDelivery {
  /** Runs passes until nothing is due (tests call it after advancing the clock). */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

/** The worker's delivery loop: a pass every `intervalMs`, and at once again while a pass was full. */
export function startWebhookDelivery(
  db: Db,
  deps: WebhookDeliveryDeps & { intervalMs: number; logger: { warn(obj: object, msg?: string): void } },
): WebhookDelivery {
  let stopped = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const pass = async () => {
    try {
      while (!stopped) {
        const { attempted } = await deliverDueWebhooks(db, deps);
        if (attempted < (deps.batchSize ?? 20)) break;
      }
    } catch (error) {
      deps.logger.warn({ err: error }, 'webhook delivery pass failed; retrying on the next pass');
    }
  };
  const runOnce = () => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void runOnce().then(schedule), deps.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
