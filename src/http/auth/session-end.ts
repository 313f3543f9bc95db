import type { Queryable } from '../../db/types.ts';
import { sha256 } from './secrets.ts';

/** Why a session cookie no longer signs anyone in, told to the person so sign-in is not a mystery. */
export type SessionEnd = 'password_changed' | 'deactivated' | 'signed_out' | 'expired' | 'ended';

/**
 * Why the session of `token` ended, or null while it is live (or the token is not one). A
 * revocation within a minute of the user's own password change is that change (it ends every
 * other session); an idle session is deleted, so it is only "ended".
 */
export async function whySessionEnded(q: Queryable, token: string, now: Date): Promise<SessionEnd | null> {
  if (token.length === 0 || token.length > 200) return null;
  const { rows } = await q.query<{ revoked: boolean; expired: boolean; active: boolean; password_changed: boolean }>(
    `SELECT s.revoked_at IS NOT NULL AS revoked, s.expires_at <= $2 AS expired, u.active,
       s.revoked_at IS NOT NULL AND EXISTS (
         SELECT 1 FROM audit_log a
          WHERE a.actor = 'user:' || u.id AND a.action = 'user.password_change'
            AND a.at BETWEEN s.revoked_at - interval '1 minute' AND s.revoked_at + interval '1 minute') AS password_changed
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = $1`,
    [sha256(token), now],
  );
  const row = rows[0];
  if (!row) return 'ended';
  if (!row.active) return 'deactivated';
  if (row.password_changed) return 'password_changed';
  if (row.revoked) return 'signed_out';
  if (row.expired) return 'expired';
  return null;
}
