// The ledger of Stripe events (table stripe_events): what Stripe sent and what came of it.
import type { Queryable } from '../../db/types.ts';

export const STRIPE_EVENT_OUTCOMES = [
  'received',
  'started',
  'duplicate',
  'recorded',
  'ignored',
  'unsupported',
  'waiting',
  'rejected',
  'failed',
] as const;
export type StripeEventOutcome = (typeof STRIPE_EVENT_OUTCOMES)[number];

/** How an event reached the ledger: Stripe delivered it, or the catch-up listed it. */
export type StripeEventSource = 'webhook' | 'catch_up';

export interface StripeEventRecord {
  id: string;
  type: string;
  object_id: string | null;
  livemode: boolean;
  api_version: string | null;
  created: Date;
  received_at: Date;
  last_received_at: Date;
  deliveries: number;
  outcome: StripeEventOutcome;
  detail: string | null;
  waiting_for: string | null;
  run_id: string | null;
  run_type: string | null;
  record_id: string | null;
  customer_id: string | null;
  error: string | null;
  handled_at: Date | null;
  received_via: StripeEventSource;
}

/** What handling an event came to; written on its ledger row. */
export interface EventOutcome {
  outcome: Exclude<StripeEventOutcome, 'received'>;
  detail?: string;
  /** The Stripe object this event needs first (outcome `waiting` only). */
  waiting_for?: string;
  run_id?: string;
  run_type?: string;
  record_id?: string;
  customer_id?: string;
  error?: string;
}

/** The envelope fields the ledger keeps (a `Stripe.Event` fits). */
export interface LedgerEvent {
  id: string;
  type: string;
  livemode: boolean;
  created: number;
  api_version?: string | null;
  data: { object: unknown };
}

const COLUMNS = `id, type, object_id, livemode, api_version, created, received_at, last_received_at, deliveries, outcome,
  detail, waiting_for, run_id, run_type, record_id, customer_id, error, handled_at, received_via`;

/** Outcomes after which a redelivery changes nothing; the others are handled again. */
const FINAL: readonly StripeEventOutcome[] = ['started', 'duplicate', 'recorded', 'ignored', 'unsupported'];

/**
 * Records a delivery of a verified event. A new event is written as `received`; a redelivery
 * counts itself on the existing row. `handle` says whether the caller must act: a new event, or
 * one whose earlier handling did not finish (the process died, or a transient error).
 */
export async function recordDelivery(
  q: Queryable,
  event: LedgerEvent,
  options: { at?: Date; via?: StripeEventSource } = {},
): Promise<{ event: StripeEventRecord; handle: boolean }> {
  const objectId = (event.data.object as { id?: unknown } | null)?.id;
  const { rows } = await q.query<StripeEventRecord & { inserted: boolean }>(
    `INSERT INTO stripe_events (id, type, object_id, livemode, api_version, created, received_at, last_received_at, payload,
       received_via)
     VALUES ($1, $2, $3, $4, $5, to_timestamp($6), coalesce($7::timestamptz, now()), coalesce($7::timestamptz, now()), $8::jsonb,
       $9)
     ON CONFLICT (id) DO UPDATE SET deliveries = stripe_events.deliveries + 1,
       last_received_at = coalesce($7::timestamptz, now())
     RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
    [
      event.id,
      event.type,
      typeof objectId === 'string' ? objectId : null,
      event.livemode,
      event.api_version ?? null,
      event.created,
      options.at ?? null,
      JSON.stringify(event),
      options.via ?? 'webhook',
    ],
  );
  const { inserted, ...row } = rows[0] as StripeEventRecord & { inserted: boolean };
  return { event: row, handle: inserted || handledAgain(row.outcome) };
}

/**
 * Writes what handling came to. Two deliveries of one event handled at once both reach the same
 * run, one as `started` and one as `duplicate`: the row keeps `started`, whichever finishes last.
 */
export async function settleEvent(
  q: Queryable,
  id: string,
  outcome: EventOutcome,
  options: { at?: Date } = {},
): Promise<StripeEventRecord> {
  const { rows } = await q.query<StripeEventRecord>(
    `UPDATE stripe_events SET outcome = $2, detail = $3, waiting_for = $4, run_id = $5, run_type = $6, record_id = $7,
       customer_id = $8, error = $9, handled_at = coalesce($10::timestamptz, now())
     WHERE id = $1 AND NOT (outcome = 'started' AND $2 = 'duplicate' AND run_id = $5)
     RETURNING ${COLUMNS}`,
    [
      id,
      outcome.outcome,
      outcome.detail ?? null,
      outcome.waiting_for ?? null,
      outcome.run_id ?? null,
      outcome.run_type ?? null,
      outcome.record_id ?? null,
      outcome.customer_id ?? null,
      outcome.error ?? null,
      options.at ?? null,
    ],
  );
  const row = rows[0] ?? (await findStripeEvent(q, id));
  if (!row) throw new Error(`stripe event ${id} is not in the ledger`);
  return row;
}

export async function findStripeEvent(q: Queryable, id: string): Promise<StripeEventRecord | undefined> {
  const { rows } = await q.query<StripeEventRecord>(`SELECT ${COLUMNS} FROM stripe_events WHERE id = $1`, [id]);
  return rows[0];
}

/** The event as Stripe sent it (for replaying a waiting event). */
export async function stripeEventPayload(q: Queryable, id: string): Promise<unknown> {
  const { rows } = await q.query<{ payload: unknown }>(`SELECT payload FROM stripe_events WHERE id = $1`, [id]);
  return rows[0]?.payload;
}

/** Newest first; pass the last id of a page as `before` for the next one. */
export async function listStripeEvents(
  q: Queryable,
  filter: { outcome?: StripeEventOutcome; type?: string; objectId?: string; before?: string; limit?: number } = {},
): Promise<StripeEventRecord[]> {
  const { rows } = await q.query<StripeEventRecord>(
    `SELECT ${COLUMNS} FROM stripe_events
     WHERE ($1::text IS NULL OR outcome = $1) AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR object_id = $3)
       AND ($4::text IS NULL OR (received_at, id) < (SELECT received_at, id FROM stripe_events WHERE id = $4))
     ORDER BY received_at DESC, id DESC LIMIT $5`,
    [
      filter.outcome ?? null,
      filter.type ?? null,
      filter.objectId ?? null,
      filter.before ?? null,
      Math.min(filter.limit ?? 50, 500),
    ],
  );
  return rows;
}

/** The ledger's outcome of each of these events that it holds. */
export async function ledgerOutcomes(q: Queryable, ids: readonly string[]): Promise<Map<string, StripeEventOutcome>> {
  if (ids.length === 0) return new Map();
  const { rows } = await q.query<{ id: string; outcome: StripeEventOutcome }>(
    'SELECT id, outcome FROM stripe_events WHERE id = ANY($1::text[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.outcome]));
}

/** Whether an event in the ledger with this outcome is handled when it comes again. */
export function handledAgain(outcome: StripeEventOutcome): boolean {
  return !FINAL.includes(outcome);
}

/** Waiting events last handled before `before`, the longest-waiting first. */
export async function waitingEventsHandledBefore(q: Queryable, before: Date, limit: number): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM stripe_events WHERE outcome = 'waiting' AND handled_at < $1 ORDER BY handled_at, id LIMIT $2`,
    [before, limit],
  );
  return rows.map((r) => r.id);
}

/** Ids of the events waiting for a Stripe object, oldest first. */
export async function eventsWaitingFor(q: Queryable, stripeIds: readonly string[]): Promise<string[]> {
  if (stripeIds.length === 0) return [];
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM stripe_events WHERE outcome = 'waiting' AND waiting_for = ANY($1::text[]) ORDER BY created, id`,
    [stripeIds],
  );
  return rows.map((r) => r.id);
}
