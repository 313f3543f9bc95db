// Request rate limits: sign-in, password change and invitation acceptance per caller, and every
// request made with an API key per key. Counted in this process's memory, in fixed one-minute
// windows (see docs/operations.md for what that means with several API processes).
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimitedError } from '../errors.ts';
import { API_PREFIX } from './route.ts';

/** Requests per minute; 0 turns that limit off. */
export interface RateLimits {
  /** POST /auth/login, per source address (the failed-login lockout comes on top). */
  login: number;
  /** POST /auth/password, per signed-in user: each call verifies the current password. */
  passwordChange: number;
  /** POST /auth/invitation and /auth/setup, per source address. */
  invitation: number;
  /** Every request authenticated by an API key, per key. */
  apiKey: number;
}

/**
 * Each login hashes with argon2 (tens of ms of CPU): 30 a minute from one address is plenty for
 * an office behind one NAT and bounds that work. 6,000 a minute (100 a second) per API key lets
 * an integration import in bulk but stops a client stuck in a loop from taking the server.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = { login: 30, passwordChange: 5, invitation: 10, apiKey: 6000 };

export const RATE_LIMIT_WINDOW_MS = 60_000;

export interface RateLimitOptions extends Partial<RateLimits> {
  /** The limiter's clock in ms (tests advance one); defaults to the system clock. */
  now?: () => number;
}

type Kind = keyof RateLimits;

const MESSAGES: Record<Kind, string> = {
  login: 'too many sign-in attempts from this address',
  passwordChange: 'too many password changes',
  invitation: 'too many attempts from this address',
  apiKey: 'too many requests with this API key',
};

const NO_LIMIT = '-';

/** Which limit a request counts against, and whose bucket: `kind:who`, or NO_LIMIT. */
function bucketOf(request: FastifyRequest): string {
  const url = request.routeOptions.url;
  const principal = request.billflowAuth?.principal;
  // IPv6 clients are counted per /64, as one host usually holds a whole one.
  const address = () => normalizeIP(request.ip);
  if (url === `${API_PREFIX}/auth/login`) return `login:${address()}`;
  if (url === `${API_PREFIX}/auth/invitation` || url === `${API_PREFIX}/auth/setup`) return `invitation:${address()}`;
  if (url === `${API_PREFIX}/auth/password`) {
    return `passwordChange:${principal?.kind === 'user' ? principal.userId : address()}`;
  }
  if (principal?.kind === 'api_key') return `apiKey:${principal.apiKeyId}`;
  return NO_LIMIT;
}

function kindOf(bucket: string): Kind {
  return bucket.slice(0, bucket.indexOf(':')) as Kind;
}

/**
 * Fixed windows in a Map kept in window-start order, on a clock tests can advance. Bounded: past
 * `capacity` buckets the oldest window is forgotten first (most likely already over).
 */
function windowStore(now: () => number, capacity = 100_000) {
  return class WindowStore implements FastifyRateLimitStore {
    private readonly windows = new Map<string, { count: number; startedAt: number }>();

    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      const t = now();
      let window = this.windows.get(key);
      if (!window || window.startedAt + timeWindow <= t) {
        this.windows.delete(key);
        window = { count: 0, startedAt: t };
        this.windows.set(key, window);
        if (this.windows.size > capacity) {
          const oldest = this.windows.keys().next().value;
          if (oldest !== undefined) this.windows.delete(oldest);
        }
      }
      window.count++;
      callback(null, { current: window.count, ttl: window.startedAt + timeWindow - t });
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

/**
 * Registers the limits on `app` (root level, before the routes). They run in preParsing: after
 * the route's authentication (so an API key is known by its id) and before the body is read.
 */
export function installRateLimits(app: FastifyInstance, options: RateLimitOptions = {}): void {
  const { now = Date.now, ...overrides } = options;
  const limits: RateLimits = { ...DEFAULT_RATE_LIMITS, ...overrides };
  void app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    timeWindow: RATE_LIMIT_WINDOW_MS,
    store: windowStore(now),
    keyGenerator: bucketOf,
    allowList: (_request, bucket) => bucket === NO_LIMIT || limits[kindOf(bucket)] === 0,
    max: (_request, bucket) => limits[kindOf(bucket)],
    errorResponseBuilder: (request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      const kind = kindOf(bucketOf(request));
      return new RateLimitedError(`${MESSAGES[kind]}; try again in ${seconds} s`, seconds);
    },
  });
}
