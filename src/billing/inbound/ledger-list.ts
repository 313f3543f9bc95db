// The ledger as operators read it: pages of events by type and outcome, one event with its runs.
import type { Queryable } from '../../db/types.ts';
import { listRuns } from '../../engine/index.ts';
import type { RunSummary } from '../../engine/index.ts';
import { findStripeEvent, stripeEventPayload } from './ledger.ts';
import type { StripeEventOutcome, StripeEventRecord } from './ledger.ts';

export interface StripeEventFilter {
  outcome?: StripeEventOutcome;
  type?: string;
  /** The sort key of the last event of the previous page: received_at in µs since the epoch, id. */
  after?: readonly [number, string];
  limit: number;
}

export interface StripeEventRow extends StripeEventRecord {
  /** received_at in µs since the epoch: the page's sort key, exact where a Date is not. */
  received_key: number;
}

/** Newest received first; fetch `limit + 1` to know whether a next page follows. */
export async function pageStripeEvents(q: Queryable, filter: StripeEventFilter): Promise<StripeEventRow[]> {
  const { rows } = await q.query<StripeEventRow & { received_key: string | number }>(
    `SELECT id, type, object_id, livemode, api_version, created, received_at, last_received_at, deliveries, outcome,
       detail, waiting_for, run_id, run_type, record_id, customer_id, error, handled_at, received_via,
       (extract(epoch FROM received_at) * 1000000)::bigint AS received_key
     FROM stripe_events
     WHERE ($1::text IS NULL OR outcome = $1) AND ($2::text IS NULL OR type = $2)
       AND ($3::bigint IS NULL OR (received_at, id) < ('epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4::text))
     ORDER BY received_at DESC, id DESC LIMIT $5`,
    [filter.outcome ?? null, filter.type ?? null, filter.after?.[0] ?? null, filter.after?.[1] ?? null, filter.limit],
  );
  return rows.map((r) => ({ ...r, received_key: Number(r.received_key) }));
}

export interface StripeEventDetail {
  event: StripeEventRecord;
  /** The event as Stripe sent it. */
  payload: unknown;
  /** The run it started (or found already started for its object). */
  runs: RunSummary[];
}

export async function stripeEventDetail(q: Queryable, id: string): Promise<StripeEventDetail | undefined> {
  const event = await findStripeEvent(q, id);
  if (!event) return undefined;
  const runs = event.run_id ? (await listRuns(q, { id: event.run_id }, { limit: 10 })).items : [];
  return { event, payload: await stripeEventPayload(q, id), runs };
}
