// Never miss a Stripe event: the catch-up lists what Stripe kept (its Events API) since the last
// listing and handles every event the ledger lacks exactly as a delivered one; the sweep looks
// again at events parked as `waiting`, since what they wait for may come by another path (the
// REST API, Billflow's own charge) that releases nothing.
import type { Db, Queryable } from '../../db/types.ts';
import type { ProviderEvent, ProviderEventSource } from '../../providers/index.ts';
import { handleStripeEvent, replayStripeEvent } from './handle.ts';
import type { HandledStripeEvent, StripeInboundDeps } from './handle.ts';
import { ledgerOutcomes, waitingEventsHandledBefore } from './ledger.ts';

export interface CatchUpDeps extends StripeInboundDeps {
  source: ProviderEventSource;
  /** Events per list request (Stripe's maximum, 100, by default). */
  pageSize?: number;
  /** Events one pass takes; a longer backlog is listed in narrower time windows. */
  maxEvents?: number;
  /**
   * Seconds before the last listing that are listed again: Stripe's list is not instantly
   * complete, so an event created just before the last pass may show up only now.
   */
  overlapSeconds?: number;
}

export interface CatchUpResult {
  /** False when another process was catching up (nothing was done). */
  ran: boolean;
  listed: number;
  /** The events the ledger lacked (or had not finished), as handled now, oldest first. */
  handled: HandledStripeEvent[];
  /** Stripe's `created` of the newest event listed so far: where the next pass continues. */
  listedUntil: Date | null;
}

const LEASE = `UPDATE stripe_catch_up SET lease_until = now() + interval '10 minutes'
  WHERE lease_until IS NULL OR lease_until < now() RETURNING listed_until`;

/**
 * One catch-up pass. The first one starts from the newest event in the ledger (or from now on an
 * empty ledger: Billflow does not import the account's history). Its own cursor, not the ledger's
 * newest event, says how far it has listed, so a live delivery after an outage does not hide the
 * events lost before it. An event that fails (a transient error) keeps the cursor before it.
 */
export async function catchUpStripeEvents(db: Db, deps: CatchUpDeps): Promise<CatchUpResult> {
  const lease = await db.query<{ listed_until: Date | null }>(LEASE);
  const leased = lease.rows[0];
  if (!leased) return { ran: false, listed: 0, handled: [], listedUntil: null };
  let listedUntil = leased.listed_until;
  let error: unknown;
  const result: CatchUpResult = { ran: true, listed: 0, handled: [], listedUntil };
  try {
    if (!listedUntil) {
      const { rows } = await db.query<{ newest: Date | null }>('SELECT max(created) AS newest FROM stripe_events');
      listedUntil = rows[0]?.newest ?? deps.now?.() ?? new Date();
    }
    const from = Math.floor(listedUntil.getTime() / 1000) - (deps.overlapSeconds ?? 60);
    const { events, until } = await listSince(deps, from);
    result.listed = events.length;
    const known = await ledgerOutcomes(
      db,
      events.map((e) => e.id),
    );
    let failedAt: number | undefined;
    // Oldest first, as Stripe created them: a payment before its refund.
    for (const event of [...events].reverse()) {
      // Known events are left alone unless their handling never finished: a waiting one is the
      // sweep's, a rejected one waits for a replay once its cause is fixed.
      const outcome = known.get(event.id);
      if (outcome !== undefined && outcome !== 'received' && outcome !== 'failed') continue;
      const handled = await handleStripeEvent(db, deps, event, { via: 'catch_up' });
      result.handled.push(handled);
      if (handled.outcome === 'failed') failedAt = Math.min(failedAt ?? event.created, event.created);
    }
    const newest = events[0]?.created;
    const reached =
      failedAt !== undefined ? failedAt - 1 : Math.max(until ?? newest ?? 0, Math.floor(listedUntil.getTime() / 1000));
    listedUntil = new Date(Math.max(reached, from) * 1000);
    result.listedUntil = listedUntil;
  } catch (caught) {
    error = caught;
  }
  await db.query(
    `UPDATE stripe_catch_up SET lease_until = NULL, listed_until = coalesce($1, listed_until), last_run_at = $2,
       last_found = $3, last_error = $4`,
    [
      error ? null : listedUntil,
      deps.now?.() ?? new Date(),
      result.handled.length,
      error ? (error instanceof Error ? error.message : String(error)).slice(0, 1000) : null,
    ],
  );
  if (error) throw error;
  return result;
}

/**
 * Every event created after `from`, newest first. A backlog longer than `maxEvents` is cut to an
 * older window (halved until it fits); `until` then says where that window ends.
 */
async function listSince(deps: CatchUpDeps, from: number): Promise<{ events: ProviderEvent[]; until?: number }> {
  const max = deps.maxEvents ?? 1000;
  let until: number | undefined;
  for (;;) {
    const top = until ?? Math.ceil((deps.now?.() ?? new Date()).getTime() / 1000);
    // A single second holding more than the cap is taken whole: it cannot be cut.
    const cap = top - from <= 1 ? Infinity : max;
    const events = await listWindow(deps, from, until, cap);
    if (events) return { events, until };
    until = from + Math.max(1, Math.floor((top - from) / 2));
  }
}

/** The events of one window, or undefined when it holds more than `cap`. */
async function listWindow(
  deps: CatchUpDeps,
  from: number,
  until: number | undefined,
  cap: number,
): Promise<ProviderEvent[] | undefined> {
  const events: ProviderEvent[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await deps.source.listEvents({
      createdAfter: from,
      ...(until !== undefined ? { createdUntil: until } : {}),
      limit: deps.pageSize ?? 100,
      ...(startingAfter ? { startingAfter } : {}),
    });
    events.push(...page.data);
    if (events.length > cap) return undefined;
    const last = page.data.at(-1);
    if (!page.has_more || !last) return events;
    startingAfter = last.id;
  }
}

export interface SweepResult {
  /** Waiting events looked at again. */
  examined: number;
  /** Those that no longer wait: their run started, or they came to another final outcome. */
  released: string[];
}

/**
 * Handles again the events that have been waiting for at least `afterMs` since they were last
 * looked at (a minute by default), the longest-waiting first.
 */
export async function sweepWaitingStripeEvents(
  db: Db,
  deps: StripeInboundDeps,
  options: { afterMs?: number; limit?: number } = {},
): Promise<SweepResult> {
  const now = deps.now?.() ?? new Date();
  const ids = await waitingEventsHandledBefore(
    db,
    new Date(now.getTime() - (options.afterMs ?? 60_000)),
    options.limit ?? 100,
  );
  const released: string[] = [];
  for (const id of ids) {
    const outcome = await replayStripeEvent(db, deps, id);
    if (outcome.outcome !== 'waiting') released.push(id);
  }
  return { examined: ids.length, released };
}

export interface CatchUpStatus {
  /** When the last pass ended (null: never ran, e.g. the provider is not Stripe). */
  last_run_at: Date | null;
  /** The cursor: Stripe's `created` of the newest event listed; the next pass lists from here. */
  listed_until: Date | null;
  /** Events the last pass handled (the ledger lacked them). */
  last_found: number;
  /** Why the last pass failed; null when it did not. */
  last_error: string | null;
  /** A pass is under way (its lease has not expired). */
  running: boolean;
  /** Events in the ledger that reached Billflow through the catch-up (settled ones past retention are deleted). */
  caught_up: number;
}

/** Where the catch-up stands, for the API and the admin UI. */
export async function catchUpStatus(q: Queryable): Promise<CatchUpStatus> {
  const { rows } = await q.query<Omit<CatchUpStatus, 'caught_up'> & { caught_up: number }>(
    `SELECT c.last_run_at, c.listed_until, c.last_found, c.last_error,
       coalesce(c.lease_until > now(), false) AS running,
       (SELECT count(*)::int FROM stripe_events WHERE received_via = 'catch_up') AS caught_up
     FROM stripe_catch_up c`,
  );
  return (
    rows[0] ?? { last_run_at: null, listed_until: null, last_found: 0, last_error: null, running: false, caught_up: 0 }
  );
}
