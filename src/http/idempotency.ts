import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../db/types.ts';
import { ConflictError, InvalidInputError } from '../errors.ts';
import { sha256 } from './auth/secrets.ts';

/** A claim older than this is taken to be from a request that died mid-way. */
const STALE_CLAIM_MS = 60_000;

export type IdempotencyOutcome = { kind: 'claimed' } | { kind: 'replay'; status: number; body: unknown };

export function checkIdempotencyKey(key: string): void {
  if (key.length < 1 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new InvalidInputError([{ field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }]);
  }
}

/** What makes two requests "the same": route and body (key order does not matter). */
export function requestHash(method: string, url: string, body: unknown): string {
  return sha256(`${method} ${url}\n${canonicalJson(body)}`);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Seconds a client waits before retrying a key whose first request is still in flight. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * Claims `key` for this principal, or returns the stored response of the first request with it.
 * Same key with a different request: 409. While the first request is still in flight: 409 with
 * Retry-After. A claim whose holder is gone (its process died, or its request failed and could
 * not release it) is taken over at once: the claim dies with its request.
 */
export async function claimIdempotencyKey(
  q: Queryable,
  input: {
    principal: string;
    key: string;
    hash: string;
    now: Date;
    /** Who claims: see `createClaimHolder`. */
    holder: string;
    /** Whether the holder of an unfinished claim is still working on it. */
    inFlight: (holder: string) => Promise<boolean>;
  },
): Promise<IdempotencyOutcome> {
  const inserted = await q.query(
    `INSERT INTO idempotency_keys (principal, key, request_hash, created_at, holder) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING`,
    [input.principal, input.key, input.hash, input.now, input.holder],
    { name: 'billflow_claim_idempotency_key' },
  );
  if (inserted.rowCount > 0) return { kind: 'claimed' };
  const { rows } = await q.query<{
    request_hash: string;
    status: number | null;
    body: unknown;
    created_at: Date | string;
    holder: string | null;
  }>('SELECT request_hash, status, body, created_at, holder FROM idempotency_keys WHERE principal = $1 AND key = $2', [
    input.principal,
    input.key,
  ]);
  const row = rows[0];
  if (!row) return claimIdempotencyKey(q, input); // released between the two statements
  if (row.request_hash !== input.hash) {
    throw new ConflictError('this Idempotency-Key was used with a different request', { field: 'Idempotency-Key' });
  }
  if (row.status !== null) {
    return { kind: 'replay', status: row.status, body: typeof row.body === 'string' ? JSON.parse(row.body) : row.body };
  }
  const inFlight =
    row.holder === null
      ? input.now.getTime() - new Date(row.created_at).getTime() < STALE_CLAIM_MS // a claim from before holders
      : await input.inFlight(row.holder);
  const busy = () =>
    new ConflictError('a request with this Idempotency-Key is still being processed', {
      field: 'Idempotency-Key',
      retry_after: IN_FLIGHT_RETRY_AFTER_SECONDS,
    });
  if (inFlight) throw busy();
  const taken = await q.query(
    `UPDATE idempotency_keys SET created_at = $3, holder = $4
      WHERE principal = $1 AND key = $2 AND status IS NULL AND holder IS NOT DISTINCT FROM $5`,
    [input.principal, input.key, input.now, input.holder, row.holder],
  );
  if (taken.rowCount === 0) throw busy(); // another request took it over first
  return { kind: 'claimed' };
}

/**
 * The claims one server makes: their holder names this process's presence on the database and
 * this server, and the server knows which of its own claims are still in flight.
 */
export interface ClaimHolder {
  /** The holder name of this server's claims. */
  id(): Promise<string>;
  /**
   * Marks a request on (principal, key) as in flight from before it claims until `end`; its
   * `inFlight` tells whether someone else holds an unfinished claim on the key.
   */
  begin(principal: string, key: string): { inFlight(holder: string): Promise<boolean>; end(): void };
}

export function createClaimHolder(db: Db): ClaimHolder {
  const server = randomUUID();
  const requests = new Map<string, Set<symbol>>();
  const id = async () => `${await db.presence()}#${server}`;
  return {
    id,
    begin(principal, key) {
      const name = `${principal}\n${key}`;
      const self = Symbol(name);
      const set = requests.get(name) ?? new Set<symbol>();
      set.add(self);
      requests.set(name, set);
      return {
        async inFlight(holder) {
          if (holder === (await id())) return [...(requests.get(name) ?? [])].some((r) => r !== self);
          const presence = holder.slice(0, Math.max(0, holder.lastIndexOf('#')));
          // Another server in this process, or another process: in flight while it is present.
          return presence.length > 0 && (await db.isPresent(presence));
        },
        end() {
          set.delete(self);
          if (set.size === 0 && requests.get(name) === set) requests.delete(name);
        },
      };
    },
  };
}

/**
 * Stores a successful response for replay. With `holder`, only while that holder still has the
 * claim: when another request took the key over, this one's work must not commit (409).
 */
export async function completeIdempotencyKey(
  q: Queryable,
  input: { principal: string; key: string; status: number; body: unknown; holder?: string },
): Promise<void> {
  const done = await q.query(
    `UPDATE idempotency_keys SET status = $3, body = $4
      WHERE principal = $1 AND key = $2 AND ($5::text IS NULL OR (status IS NULL AND holder = $5))`,
    [input.principal, input.key, input.status, JSON.stringify(input.body ?? null), input.holder ?? null],
    { name: 'billflow_complete_idempotency_key' },
  );
  if (input.holder !== undefined && done.rowCount === 0) {
    throw new ConflictError('a request with this Idempotency-Key is still being processed', {
      field: 'Idempotency-Key',
      retry_after: IN_FLIGHT_RETRY_AFTER_SECONDS,
    });
  }
}

/** Forgets a claim whose request failed, so it can be retried with the same key. */
export async function releaseIdempotencyKey(q: Queryable, principal: string, key: string): Promise<void> {
  await q.query('DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL', [principal, key]);
}
