import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../../db/types.ts';
import { AuthenticationError } from '../../errors.ts';
import { principalForApiKey } from './api-keys.ts';
import type { Principal } from './principal.ts';
import { SESSION_COOKIE, principalForSession } from './sessions.ts';

export interface Credentials {
  principal: Principal | null;
  /** How the principal was found: a cookie needs CSRF on writes, a bearer key does not. */
  via: 'cookie' | 'bearer' | null;
}

/**
 * Finds who is calling. A bearer header wins over a cookie; a bearer header that names no live
 * key is a 401 even when a valid cookie came along (a client that sends a key means that key).
 */
export async function authenticate(
  q: Queryable,
  request: FastifyRequest,
  now: Date,
  sessionIdleMs?: number,
): Promise<Credentials> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = match?.[1] ? await principalForApiKey(q, match[1], now) : null;
    if (!principal) throw new AuthenticationError('the API key is invalid, expired or revoked');
    return { principal, via: 'bearer' };
  }
  const token = request.cookies[SESSION_COOKIE];
  if (token) {
    const principal = await principalForSession(q, token, now, sessionIdleMs);
    // An expired or revoked cookie is the same as none: public routes still work with it.
    if (principal) return { principal, via: 'cookie' };
  }
  return { principal: null, via: null };
}
