import type { Queryable } from '../../db/types.ts';
import { RateLimitedError } from '../../errors.ts';

export interface LoginThrottlePolicy {
  /** Failed logins on one account within `windowMs` that lock it. */
  accountMaxFailures: number;
  /** Failed logins from one source address within `windowMs` that lock it out. */
  ipMaxFailures: number;
  windowMs: number;
  lockoutMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = {
  accountMaxFailures: 5,
  ipMaxFailures: 20,
  windowMs: 15 * 60_000,
  lockoutMs: 15 * 60_000,
};

export function throttleKeys(email: string, ip: string): { account: string; ip: string } {
  return { account: `account:${email.trim().toLowerCase()}`, ip: `ip:${ip}` };
}

/** Refuses (429) while the account or the source address is locked out. */
export async function assertNotLocked(q: Queryable, keys: string[], now: Date): Promise<void> {
  const { rows } = await q.query<{ locked_until: Date | string }>(
    'SELECT locked_until FROM login_throttle WHERE key = ANY($1::text[]) AND locked_until > $2',
    [keys, now],
  );
  if (rows.length === 0) return;
  const until = Math.max(...rows.map((r) => new Date(r.locked_until).getTime()));
  throw new RateLimitedError(
    'too many failed logins; try again later',
    Math.max(1, Math.ceil((until - now.getTime()) / 1000)),
  );
}

/** Counts a failure within the current window; reaching `max` locks the key for `lockoutMs`. */
export async function recordLoginFailure(
  q: Queryable,
  key: string,
  max: number,
  policy: LoginThrottlePolicy,
  now: Date,
): Promise<void> {
  await q.query(
    `INSERT INTO login_throttle AS t (key, failures, window_started_at, locked_until)
     VALUES ($1, 1, $2, CASE WHEN $3::int <= 1 THEN $2::timestamptz + $5::int * interval '1 millisecond' END)
     ON CONFLICT (key) DO UPDATE SET
       failures = CASE WHEN t.window_started_at + $4::int * interval '1 millisecond' <= $2 THEN 1 ELSE t.failures + 1 END,
       window_started_at = CASE WHEN t.window_started_at + $4::int * interval '1 millisecond' <= $2
                                THEN $2 ELSE t.window_started_at END,
       locked_until = CASE
         WHEN (CASE WHEN t.window_started_at + $4::int * interval '1 millisecond' <= $2 THEN 1 ELSE t.failures + 1 END) >= $3
         THEN $2::timestamptz + $5::int * interval '1 millisecond'
         ELSE t.locked_until END`,
    [key, now, max, policy.windowMs, policy.lockoutMs],
  );
}

export async function clearLoginFailures(q: Queryable, key: string): Promise<void> {
  await q.query('DELETE FROM login_throttle WHERE key = $1', [key]);
}
