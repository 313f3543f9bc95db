import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { NotFoundError } from '../../errors.ts';
import { iso } from '../pagination.ts';
import { DEFAULT_SESSION_IDLE_MS, endIdleSession, isIdle, touchSession } from './idle.ts';
import type { Principal } from './principal.ts';
import { isRole } from './roles.ts';
import { randomToken, sha256 } from './secrets.ts';

export const SESSION_COOKIE = 'billflow_session';
export const DEFAULT_SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

export interface NewSession {
  id: string;
  /** Goes into the cookie; only its hash is stored. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

export async function createSession(
  q: Queryable,
  input: { userId: string; ip: string | null; userAgent: string | null; now: Date; ttlMs: number },
): Promise<NewSession> {
  const session = {
    id: newId('ses'),
    token: randomToken(32),
    csrfToken: randomToken(32),
    expiresAt: new Date(input.now.getTime() + input.ttlMs),
  };
  await q.query(
    `INSERT INTO sessions (id, token_hash, user_id, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)`,
    [
      session.id,
      sha256(session.token),
      input.userId,
      session.csrfToken,
      input.ip,
      input.userAgent?.slice(0, 500) ?? null,
      input.now,
      session.expiresAt,
    ],
  );
  return session;
}

/**
 * The signed-in user behind a session cookie, if the session is live and the user active. A
 * session unused for `idleMs` is deleted and counts as none; a use is recorded (see idle.ts).
 */
export async function principalForSession(
  q: Queryable,
  token: string,
  now: Date,
  idleMs: number = DEFAULT_SESSION_IDLE_MS,
): Promise<Principal | null> {
  if (token.length === 0 || token.length > 200) return null;
  const { rows } = await q.query<{
    id: string;
    csrf_token: string;
    last_seen_at: Date | string;
    user_id: string;
    email: string;
    role: string;
  }>(
    `SELECT s.id, s.csrf_token, s.last_seen_at, u.id AS user_id, u.email, u.role
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.active`,
    [sha256(token), now],
  );
  const row = rows[0];
  if (!row || !isRole(row.role)) return null;
  const lastSeenAt = new Date(row.last_seen_at);
  if (isIdle(lastSeenAt, now, idleMs)) {
    await endIdleSession(q, row.id, now, idleMs);
    return null;
  }
  await touchSession(q, row.id, lastSeenAt, now);
  return {
    kind: 'user',
    userId: row.user_id,
    email: row.email,
    role: row.role,
    sessionId: row.id,
    csrfToken: row.csrf_token,
  };
}

export async function revokeSession(q: Queryable, userId: string, sessionId: string, now: Date): Promise<void> {
  const { rowCount } = await q.query(
    `UPDATE sessions SET revoked_at = coalesce(revoked_at, $3) WHERE id = $1 AND user_id = $2 AND expires_at > $3`,
    [sessionId, userId, now],
  );
  if (rowCount === 0) throw new NotFoundError(`session ${sessionId} not found`);
}

/** Revokes every live session of a user except `keepSessionId` (password change, deactivation). */
export async function revokeUserSessions(
  q: Queryable,
  userId: string,
  now: Date,
  keepSessionId?: string,
): Promise<number> {
  const { rowCount } = await q.query(
    `UPDATE sessions SET revoked_at = $2
      WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND id IS DISTINCT FROM $3`,
    [userId, now, keepSessionId ?? null],
  );
  return rowCount;
}

export interface SessionView {
  id: string;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  expires_at: string;
  current: boolean;
}

/** A user's live sessions, newest first (a handful per user: no paging needed); idle ones are over. */
export async function listSessions(
  q: Queryable,
  userId: string,
  now: Date,
  currentId: string,
  idleMs: number = DEFAULT_SESSION_IDLE_MS,
): Promise<SessionView[]> {
  const { rows } = await q.query<{
    id: string;
    ip: string | null;
    user_agent: string | null;
    created_at: Date;
    expires_at: Date;
  }>(
    `SELECT id, ip, user_agent, created_at, expires_at FROM sessions
      WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
        AND last_seen_at + $3::bigint * interval '1 millisecond' > $2
      ORDER BY id DESC LIMIT 500`,
    [userId, now, idleMs],
  );
  return rows.map((r) => ({
    id: r.id,
    ip: r.ip,
    user_agent: r.user_agent,
    created_at: iso(r.created_at) as string,
    expires_at: iso(r.expires_at) as string,
    current: r.id === currentId,
  }));
}
