import type { Db, Queryable } from '../../../db/types.ts';
import type { StartHooks, StartRequest, StartResult } from '../../../engine/index.ts';
import type { NotificationCatalogue, NotifyDeps, Resolver, UrlGuard } from '../../../notify/index.ts';
import type { PaymentProvider } from '../../../providers/index.ts';

/** Days after a failed payment on which dunning charges again. */
export const DEFAULT_DUNNING_DAYS: readonly number[] = [1, 3, 5, 7];
/** Days after an invoice's due date before its customer is disabled. */
export const DEFAULT_GRACE_DAYS = 30;

/** What the billing workflows need from the outside world, built once by main.ts. */
export interface BillingDeps {
  /** For external steps (emails, notices, provider look-ups): db steps use their `ctx.tx`. */
  db: Db;
  provider: PaymentProvider;
  notify: NotifyDeps;
  dunningDays?: readonly number[];
  graceDays?: number;
  /** Told of every start through the registry (metrics, the trace context a run stores). */
  startHooks?: StartHooks;
  /** Where custom webhook steps may send besides public https URLs (BILLFLOW_WEBHOOK_ALLOW_HOSTS). */
  webhookGuard?: UrlGuard;
  /** Name resolution for custom steps' requests (tests point a name at an address). */
  webhookResolver?: Resolver;
}

/**
 * Starts another billing workflow from inside a step (a recovered payment starts payment_success,
 * a cancellation's refund starts refund_creation). Pass the db step's `ctx.tx` so the new run
 * commits with the step, exactly once.
 */
export type StartRun = (q: Queryable, request: StartRequest) => Promise<StartResult>;

/** Everything a workflow definition is built from. */
export interface WorkflowDeps extends BillingDeps {
  startRun: StartRun;
  /** What the steps render and send with: billing's catalogue, built from the registry list. */
  notifications: NotificationCatalogue;
}
