import { createHash } from 'node:crypto';
import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import type { WebhookEventType } from './event-types.ts';

export interface EmittedEvent {
  type: WebhookEventType;
  /** The record as the API shows it. */
  payload: object;
  runId?: string | null;
  /**
   * Makes the emit idempotent: the same key gives the same message id and a second emit adds
   * nothing. Steps inside the engine's transaction need none (they commit once); sweeps that
   * may run in several processes at once pass one.
   */
  key?: string;
  time?: Date;
}

/** The message id for an idempotency key: `msg_` + 28 hex digits of its hash. */
export function eventIdFor(key: string): string {
  return `msg_${createHash('sha256').update(key).digest('hex').slice(0, 28)}`;
}

/**
 * Writes a business fact to the webhook outbox, with one pending delivery per enabled endpoint
 * that subscribes to its type — in one statement, inside the caller's transaction (the one that
 * made the fact true), so the event exists if and only if the fact does. When no endpoint
 * listens nothing is written. Returns the message id, or null when nothing was written.
 */
export async function emitEvent(tx: Queryable, event: EmittedEvent): Promise<string | null> {
  const id = event.key ? eventIdFor(event.key) : newId('msg');
  const { rows } = await tx.query<{ id: string }>(
    `WITH listeners AS (
       SELECT id FROM webhook_endpoints WHERE enabled AND (event_types IS NULL OR $2 = ANY (event_types))),
     ev AS (
       INSERT INTO webhook_events (id, type, payload, run_id, created_at)
       SELECT $1, $2, $3::jsonb, $4, COALESCE($5::timestamptz, now())
       WHERE EXISTS (SELECT 1 FROM listeners)
       ON CONFLICT (id) DO NOTHING RETURNING id, created_at),
     deliveries AS (
       INSERT INTO webhook_deliveries (event_id, endpoint_id, status, next_attempt_at, created_at)
       SELECT ev.id, l.id, 'pending', '-infinity', ev.created_at FROM ev CROSS JOIN listeners l
       RETURNING event_id)
     SELECT id FROM ev`,
    [id, event.type, JSON.stringify(event.payload), event.runId ?? null, event.time ?? null],
    { name: 'billflow_emit_webhook_event' },
  );
  return rows[0]?.id ?? null;
}
