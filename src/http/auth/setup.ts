import type { Db, Queryable } from '../../db/types.ts';
import { AuthenticationError, ConflictError } from '../../errors.ts';
import { randomToken, sha256 } from './secrets.ts';

const SETUP_TTL_MS = 7 * 24 * 3600 * 1000;
export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * The first-run token: with no user in the database, a fresh one-time token (earlier unused ones
 * die, since only the newest was printed); once a user exists, null. Only its hash is stored.
 */
export async function ensureSetupToken(db: Db, now: Date = new Date()): Promise<string | null> {
  return db.transaction(async (tx) => {
    // Serializes concurrent start-ups and the setup request itself.
    await tx.query('LOCK TABLE setup_tokens IN EXCLUSIVE MODE');
    const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    if ((rows[0]?.n ?? 0) > 0) return null;
    await tx.query('DELETE FROM setup_tokens WHERE user_id IS NULL AND used_at IS NULL');
    const token = randomToken(32);
    await tx.query('INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)', [
      sha256(token),
      now,
      new Date(now.getTime() + SETUP_TTL_MS),
    ]);
    return token;
  });
}

/** The link start-up prints when no user exists yet, or null. */
export async function setupLink(db: Db, publicUrl: string, now?: Date): Promise<string | null> {
  const token = await ensureSetupToken(db, now);
  return token === null ? null : `${publicUrl.replace(/\/+$/, '')}/setup?token=${encodeURIComponent(token)}`;
}

/** Spends the first-run token inside the caller's transaction; it works once, and only before any user exists. */
export async function consumeSetupToken(q: Queryable, token: string, now: Date): Promise<void> {
  await q.query('LOCK TABLE setup_tokens IN EXCLUSIVE MODE');
  const { rowCount } = await q.query(
    `UPDATE setup_tokens SET used_at = $2
      WHERE token_hash = $1 AND user_id IS NULL AND used_at IS NULL AND expires_at > $2`,
    [sha256(token), now],
  );
  if (rowCount === 0) throw new AuthenticationError('the setup token is invalid, expired or already used');
  const { rows } = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
  if ((rows[0]?.n ?? 0) > 0) throw new ConflictError('setup is already done');
}

/**
 * Whether a setup (user_id NULL) or invitation token is live, checked before the expensive
 * password hashing so a random token costs the server almost nothing. The spend is what counts.
 */
export async function tokenLooksLive(
  q: Queryable,
  token: string,
  kind: 'setup' | 'invite',
  now: Date,
): Promise<boolean> {
  const { rowCount } = await q.query(
    `SELECT 1 FROM setup_tokens
      WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND (user_id IS NULL) = $3`,
    [sha256(token), now, kind === 'setup'],
  );
  return rowCount > 0;
}

/** An invitation for a user created without a password; replaces earlier ones. */
export async function createInvite(q: Queryable, userId: string, now: Date): Promise<string> {
  await q.query('DELETE FROM setup_tokens WHERE user_id = $1 AND used_at IS NULL', [userId]);
  const token = randomToken(32);
  await q.query('INSERT INTO setup_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
    sha256(token),
    userId,
    now,
    new Date(now.getTime() + INVITE_TTL_MS),
  ]);
  return token;
}

/** Spends an invitation; returns the invited user's id. */
export async function consumeInvite(q: Queryable, token: string, now: Date): Promise<string> {
  const { rows } = await q.query<{ user_id: string }>(
    `UPDATE setup_tokens SET used_at = $2
      WHERE token_hash = $1 AND user_id IS NOT NULL AND used_at IS NULL AND expires_at > $2
      RETURNING user_id`,
    [sha256(token), now],
  );
  if (!rows[0]) throw new AuthenticationError('the invitation is invalid, expired or already used');
  return rows[0].user_id;
}

export type LinkStatus = 'valid' | 'used' | 'expired' | 'invalid';

/**
 * What a setup or invitation link is worth before the form is shown, without spending it. A
 * setup link is also "used" once any user exists: setup is done, whichever link did it.
 */
export async function linkStatus(
  q: Queryable,
  token: string,
  kind: 'setup' | 'invite',
  now: Date,
): Promise<LinkStatus> {
  const { rows } = await q.query<{ used: boolean; expired: boolean }>(
    `SELECT used_at IS NOT NULL AS used, expires_at <= $2 AS expired FROM setup_tokens
      WHERE token_hash = $1 AND (user_id IS NULL) = $3`,
    [sha256(token), now, kind === 'setup'],
  );
  const row = rows[0];
  if (!row) return 'invalid';
  if (row.used) return 'used';
  if (kind === 'setup') {
    const users = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    if ((users.rows[0]?.n ?? 0) > 0) return 'used';
  }
  return row.expired ? 'expired' : 'valid';
}
