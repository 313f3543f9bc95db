import type { Queryable } from '../db/types.ts';
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

/**
 * Claims `key` for this principal, or returns the stored response of the first request with it.
 * Same key with a different request, or while the first one is still running: 409.
 */
export async function claimIdempotencyKey(
  q: Queryable,
  input: { principal: string; key: string; hash: string; now: Date },
): Promise<IdempotencyOutcome> {
  const inserted = await q.query(
    `INSERT INTO idempotency_keys (principal, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [input.principal, input.key, input.hash, input.now],
  );
  if (inserted.rowCount > 0) return { kind: 'claimed' };
  const { rows } = await q.query<{
    request_hash: string;
    status: number | null;
    body: unknown;
    created_at: Date | string;
  }>('SELECT request_hash, status, body, created_at FROM idempotency_keys WHERE principal = $1 AND key = $2', [
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
  if (input.now.getTime() - new Date(row.created_at).getTime() < STALE_CLAIM_MS) {
    throw new ConflictError('a request with this Idempotency-Key is still being processed', {
      field: 'Idempotency-Key',
    });
  }
  const taken = await q.query(
    `UPDATE idempotency_keys SET created_at = $3 WHERE principal = $1 AND key = $2 AND status IS NULL AND created_at = $4`,
    [input.principal, input.key, input.now, row.created_at],
  );
  if (taken.rowCount === 0) throw new ConflictError('a request with this Idempotency-Key is still being processed');
  return { kind: 'claimed' };
}

/** Stores a successful response for replay. */
export async function completeIdempotencyKey(
  q: Queryable,
  input: { principal: string; key: string; status: number; body: unknown },
): Promise<void> {
  await q.query('UPDATE idempotency_keys SET status = $3, body = $4 WHERE principal = $1 AND key = $2', [
    input.principal,
    input.key,
    input.status,
    JSON.stringify(input.body ?? null),
  ]);
}

/** Forgets a claim whose request failed, so it can be retried with the same key. */
export async function releaseIdempotencyKey(q: Queryable, principal: string, key: string): Promise<void> {
  await q.query('DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL', [principal, key]);
}
