import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { NotFoundError } from '../../errors.ts';
import { iso } from '../pagination.ts';
import type { Principal } from './principal.ts';
import { isRole } from './roles.ts';
import type { Role } from './roles.ts';
import { randomToken, sha256 } from './secrets.ts';

// `bf_` + 8 readable characters (shown in lists) + `_` + 32 random bytes (256 bits) base64url.
const KEY_FORMAT = /^bf_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/;
const PREFIX_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  created_by: string | null;
  created_at: Date | string;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
  last_used_at: Date | string | null;
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  created_by: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export function apiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    created_by: row.created_by,
    created_at: iso(row.created_at) as string,
    expires_at: iso(row.expires_at),
    revoked_at: iso(row.revoked_at),
    last_used_at: iso(row.last_used_at),
  };
}

export const API_KEY_COLUMNS = 'id, name, prefix, role, created_by, created_at, expires_at, revoked_at, last_used_at';

function readablePrefix(): string {
  const bytes = Buffer.from(randomToken(8), 'base64url');
  return [...bytes].map((b) => PREFIX_ALPHABET[b % PREFIX_ALPHABET.length]).join('');
}

/** Creates a key; the returned `key` is the only time it exists in clear. */
export async function createApiKey(
  q: Queryable,
  input: { name: string; role: Role; expiresAt: Date | null; createdBy: string | null; now: Date },
): Promise<{ key: string; row: ApiKeyRow }> {
  const prefix = `bf_${readablePrefix()}`;
  const key = `${prefix}_${randomToken(32)}`;
  const { rows } = await q.query<ApiKeyRow>(
    `INSERT INTO api_keys (id, name, prefix, key_hash, role, created_by, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${API_KEY_COLUMNS}`,
    [newId('key'), input.name, prefix, sha256(key), input.role, input.createdBy, input.now, input.expiresAt],
  );
  return { key, row: rows[0] as ApiKeyRow };
}

/** The machine behind a bearer key, if the key is well-formed, known, unexpired and not revoked. */
export async function principalForApiKey(q: Queryable, key: string, now: Date): Promise<Principal | null> {
  if (!KEY_FORMAT.test(key)) return null;
  const { rows } = await q.query<{ id: string; name: string; role: string; unrecorded: boolean }>(
    `SELECT id, name, role, (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute') AS unrecorded
       FROM api_keys
      WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`,
    [sha256(key), now],
    { name: 'billflow_api_key_principal' },
  );
  const row = rows[0];
  if (!row || !isRole(row.role)) return null;
  return { kind: 'api_key', apiKeyId: row.id, name: row.name, role: row.role, useUnrecorded: row.unrecorded };
}

/**
 * Recorded after the key's request succeeded (a refused one changes nothing), to the minute: a
 * busy integration should not turn every read into a write on one row, nor pay a round trip for
 * it (the caller skips this when the key's principal says the use of the minute is recorded).
 */
export async function touchApiKey(q: Queryable, id: string, now: Date): Promise<void> {
  await q.query(
    `UPDATE api_keys SET last_used_at = $2
      WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')`,
    [id, now],
  );
}

export async function getApiKey(q: Queryable, id: string): Promise<ApiKeyRow> {
  const { rows } = await q.query<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  if (!rows[0]) throw new NotFoundError(`API key ${id} not found`);
  return rows[0];
}

export async function revokeApiKey(q: Queryable, id: string, now: Date): Promise<ApiKeyRow> {
  const { rows } = await q.query<ApiKeyRow>(
    `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING ${API_KEY_COLUMNS}`,
    [id, now],
  );
  if (!rows[0]) throw new NotFoundError(`API key ${id} not found`);
  return rows[0];
}
