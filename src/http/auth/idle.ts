import type { Queryable } from '../../db/types.ts';

/** A session unused this long is ended, whatever is left of its 14-day life. */
export const DEFAULT_SESSION_IDLE_MS = 12 * 3600 * 1000;

/**
 * A session's last use is written at most this often: the admin UI reads a lot, and each read
 * turning into a write on the session row would cost more than the timeout is worth. So a session
 * may end up to this much before its idle timeout, never after it.
 */
export const LAST_SEEN_RESOLUTION_MS = 60_000;

export function isIdle(lastSeenAt: Date, now: Date, idleMs: number): boolean {
  return lastSeenAt.getTime() + idleMs <= now.getTime();
}

/** Deletes a session found idle (unless a concurrent request has just recorded a use). */
export async function endIdleSession(q: Queryable, sessionId: string, now: Date, idleMs: number): Promise<void> {
  await q.query(`DELETE FROM sessions WHERE id = $1 AND last_seen_at + $3::bigint * interval '1 millisecond' <= $2`, [
    sessionId,
    now,
    idleMs,
  ]);
}

/** Records a use of the session, when the last one recorded is a minute old or more. */
export async function touchSession(q: Queryable, sessionId: string, lastSeenAt: Date, now: Date): Promise<void> {
  if (now.getTime() - lastSeenAt.getTime() < LAST_SEEN_RESOLUTION_MS) return;
  await q.query(`UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2`, [sessionId, now]);
}
