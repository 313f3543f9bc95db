import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/types.ts';
import type { Registry } from '../engine/index.ts';
import type { NotifyDeps, UrlGuard } from '../notify/index.ts';
import type { PaymentProvider } from '../providers/index.ts';
import type { CalendarOwner } from '../billing/calendar/index.ts';
import type { LoginThrottlePolicy } from './auth/throttle.ts';
import type { HttpObservability } from './observe.ts';

/**
 * What the API's route files are built from. Plain values, built once by main.ts; the lead adds
 * members (billing registry, provider, notify deps) as route files need them.
 */
export interface ApiDeps {
  db: Db;
  /** The application's clock: session expiry, lockouts, audit times. Tests pass a fake one. */
  clock: () => Date;
  logger: FastifyBaseLogger;
  /**
   * Fastify's `trustProxy`: when set, `X-Forwarded-For` / `X-Forwarded-Proto` decide the source
   * IP and whether the session cookie is `Secure`. Only set it behind a proxy you run.
   */
  trustProxy?: boolean | string | string[];
  /** Overrides the login lockout thresholds (tests). */
  loginThrottle?: Partial<LoginThrottlePolicy>;
  /** How long a session lasts after login. Default 14 days. */
  sessionTtlMs?: number;
  /** How long a session may go unused before it ends. Default 12 hours. */
  sessionIdleMs?: number;
  /** The admin UI's base URL, for setup and invitation links. */
  publicUrl?: string;
  /**
   * The billing workflows and what they call out to: routes that start runs (records, manual
   * trigger) and template test sends are only served when this is given.
   */
  billing?: {
    registry: Registry;
    provider: PaymentProvider;
    notify: NotifyDeps;
    /** Who owns the billing calendar (BILLFLOW_CALENDAR_OWNER); replays of Stripe events follow it. */
    calendarOwner?: CalendarOwner;
  };
  /** Where webhook endpoints may point besides public https URLs (BILLFLOW_WEBHOOK_ALLOW_HOSTS). */
  webhookGuard?: UrlGuard;
  /** Metrics (and /metrics), request spans; operator actions are counted here. */
  observability?: HttpObservability;
}
