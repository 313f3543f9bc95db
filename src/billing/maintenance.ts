import type { Db } from '../db/types.ts';
import { compactRunCounts } from '../engine/index.ts';
import { emitEvent, flushAlertDigest, raiseFailureAlert, resolveFinishedAlerts } from '../notify/index.ts';
import type { AlertDeps } from '../notify/index.ts';
import { DEFAULT_TRIAL_REMINDER_DAYS, renewDueSubscriptions, sendTrialReminders } from './calendar/index.ts';
import type { CalendarDeps } from './calendar/index.ts';
import { catchUpStripeEvents, sweepWaitingStripeEvents } from './inbound/index.ts';
import type { Registry } from '../engine/index.ts';
import type { ProviderEventSource } from '../providers/index.ts';
import { settleSubscriptions } from './records/index.ts';
import { createPruner } from './retention.ts';
import type { RetentionSettings } from './retention.ts';
import { refreshCustomerStatus } from './stats/index.ts';
import { announceReconciliation, runDailyReconciliation } from './reconciliation/index.ts';
import { settleUnknownRefunds } from './workflows/refund-creation/settle.ts';

interface FailedRun {
  id: string;
  type: string;
  failed_step: string;
  error: unknown;
  /** `<run id>:<failure time in µs>` */
  failure_key: string;
}

// One alert per failure: a run restarted and failed again is a new failure with a new time.
const FAILED_WITHOUT_ALERT = `
  SELECT id, type, failed_step, error, failure_key
  FROM (SELECT r.*, r.id || ':' || (extract(epoch FROM r.failed_at) * 1000000)::bigint AS failure_key
        FROM workflow_runs r
        WHERE r.status = 'failed' AND r.failed_at > $1) f
  WHERE NOT EXISTS (SELECT 1 FROM failure_alerts a WHERE a.dedupe_key = f.failure_key)
  ORDER BY failed_at
  LIMIT $2`;

/**
 * Raises the failure alert of every run that reached `failed` within `lookbackMs` and has none
 * yet. Alerts come from the database, not from the worker that saw the failure, so a crash right
 * after a failure delays its alert by one sweep instead of losing it; the dedupe key makes
 * concurrent sweeps in several processes raise each alert once.
 */
export async function alertFailedRuns(
  db: Db,
  deps: AlertDeps,
  options: { lookbackMs?: number; limit?: number } = {},
): Promise<number> {
  const since = new Date(deps.clock().getTime() - (options.lookbackMs ?? 24 * 3_600_000));
  const { rows } = await db.query<FailedRun>(FAILED_WITHOUT_ALERT, [since, options.limit ?? 100], {
    name: 'billflow_failed_without_alert',
  });
  let raised = 0;
  for (const run of rows) {
    // Keyed by the failure: a sweep that crashed after it and runs again adds nothing.
    await emitEvent(db, {
      type: 'workflow_run.failed',
      payload: { id: run.id, type: run.type, status: 'failed', failed_step: run.failed_step, error: run.error },
      runId: run.id,
      key: `workflow_run.failed:${run.failure_key}`,
    });
    const result = await raiseFailureAlert(db, deps, {
      runId: run.id,
      type: run.type,
      step: run.failed_step,
      error: run.error,
      dedupeKey: run.failure_key,
    });
    if (result.delivery !== 'duplicate') raised++;
  }
  return raised;
}

/**
 * Writes down what time decided (trials that ended, scheduled cancellations now due) and refreshes
 * the lifecycle status of the customers concerned, in one transaction. `trials: false` when
 * Billflow's calendar converts ended trials itself (with their first invoice).
 */
export async function settleDueSubscriptions(db: Db, now: Date, options: { trials?: boolean } = {}): Promise<number> {
  return db.transaction(async (tx) => {
    const changed = await settleSubscriptions(tx, now, options);
    for (const customerId of new Set(changed.map((s) => s.customer_id))) {
      await refreshCustomerStatus(tx, customerId, now);
    }
    return changed.length;
  });
}

export interface MaintenanceLogger {
  warn(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
}

/** After a retention pass found nothing more to delete, the next one waits this long. */
const RETENTION_IDLE_MS = 10 * 60_000;

export interface Maintenance {
  /** One pass of every job, e.g. from a test or after a failure was seen. */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

/** One renewal pass; what failed in it is thrown together at its end (the rest went on). */
async function renewals(db: Db, calendar: CalendarDeps): Promise<number> {
  const pass = await renewDueSubscriptions(db, calendar);
  if (pass.errors.length > 0) {
    throw new AggregateError(
      pass.errors.map((e) => e.error),
      `renewing ${pass.errors.map((e) => e.subscription_id).join(', ')} failed`,
    );
  }
  return pass.renewed.length;
}

/**
 * The periodic jobs of a worker process: failure alerts, their digests and their resolution, the
 * billing calendar (renewals and their charges when Billflow owns it, trial reminders), due
 * subscriptions, refunds whose outcome the provider could not tell, Stripe events never delivered
 * (the catch-up) or parked as waiting (the sweep), folding the run counters, the daily
 * reconciliation ("did we lose anything?") and
 * deleting history past its retention.
 * Each job's error is logged and retried on the next pass, never fatal.
 */
export function startMaintenance(
  db: Db,
  deps: {
    alerts: AlertDeps;
    intervalMs: number;
    logger: MaintenanceLogger;
    calendar?: CalendarDeps;
    /** Without it nothing is deleted. */
    retention?: RetentionSettings;
    /**
     * Inbound Stripe events: waiting ones are swept; with `source` (Stripe is the provider) missed
     * deliveries are caught up at start and every `catchUpEveryMs` (a minute by default).
     */
    stripeEvents?: { registry: Registry; source?: ProviderEventSource; catchUpEveryMs?: number };
  },
): Maintenance {
  const calendar = deps.calendar;
  const ownCalendar = calendar?.owner === 'billflow';
  const jobs: [string, () => Promise<unknown>][] = [
    ['failure alerts', () => alertFailedRuns(db, deps.alerts)],
    ['alert digest', () => flushAlertDigest(db, deps.alerts)],
    ['resolved alerts', () => resolveFinishedAlerts(db)],
  ];
  if (calendar && ownCalendar) jobs.push(['renewals', () => renewals(db, calendar)]);
  if (calendar) {
    const days = calendar.trialReminderDays ?? DEFAULT_TRIAL_REMINDER_DAYS;
    jobs.push([
      'trial reminders',
      () => sendTrialReminders(db, { notify: calendar.notify, clock: calendar.clock, days }),
    ]);
  }
  const provider = calendar?.provider;
  if (provider) {
    jobs.push([
      'refunds with an unknown outcome',
      async () => {
        const { errors } = await settleUnknownRefunds(db, provider);
        if (errors.length > 0) throw new Error(`could not ask the provider about ${errors.join('; ')}`);
      },
    ]);
  }
  const inbound = deps.stripeEvents;
  let catchUp: (() => Promise<void>) | undefined;
  if (inbound) {
    const inboundDeps = { registry: inbound.registry, now: deps.alerts.clock, calendarOwner: calendar?.owner };
    const source = inbound.source;
    if (source) {
      let nextAt = 0;
      catchUp = async () => {
        const now = deps.alerts.clock().getTime();
        if (now < nextAt) return;
        nextAt = now + (inbound.catchUpEveryMs ?? 60_000);
        const result = await catchUpStripeEvents(db, { ...inboundDeps, source });
        if (result.handled.length > 0) {
          deps.logger.info?.(
            { handled: result.handled.map((h) => ({ id: h.eventId, type: h.type, outcome: h.outcome })) },
            'caught up with Stripe events that were never delivered',
          );
        }
      };
      jobs.push(['stripe event catch-up', catchUp]);
    }
    jobs.push(['waiting stripe events', () => sweepWaitingStripeEvents(db, inboundDeps)]);
  }
  jobs.push(['due subscriptions', () => settleDueSubscriptions(db, deps.alerts.clock(), { trials: !ownCalendar })]);
  jobs.push(['run counts', () => compactRunCounts(db)]);
  // Once a UTC day across all workers; an alert in the feed when it finds something.
  let reconciledDay: string | undefined;
  // A day whose failed check this process ran and has not yet sent to Slack and email.
  let unannounced: string | undefined;
  jobs.push([
    'daily reconciliation',
    async () => {
      const day = deps.alerts.clock().toISOString().slice(0, 10);
      if (day !== reconciledDay) {
        const report = await runDailyReconciliation(db, { provider: calendar?.provider, notify: deps.alerts });
        reconciledDay = day;
        if (report && !report.ok) unannounced = day;
      }
      // Once per day (send keys), by the process that ran the check; retried on its next pass.
      if (unannounced) {
        await announceReconciliation(db, deps.alerts, unannounced);
        unannounced = undefined;
      }
    },
  ]);
  const retention = deps.retention;
  if (retention && (retention.days > 0 || retention.auditDays > 0)) {
    const prune = createPruner(db, retention);
    let idleUntil = 0;
    jobs.push([
      'retention',
      async () => {
        const now = deps.alerts.clock();
        if (now.getTime() < idleUntil) return;
        // A bounded share per pass; a backlog is worked off over the next passes.
        const { deleted, done } = await prune({ now });
        if (done) idleUntil = now.getTime() + RETENTION_IDLE_MS;
        const counts = Object.fromEntries(Object.entries(deleted).filter(([, n]) => n > 0));
        if (Object.keys(counts).length > 0)
          deps.logger.info?.({ deleted: counts, done }, 'deleted history past its retention');
      },
    ]);
  }
  let running: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const pass = async () => {
    await starting;
    for (const [name, job] of jobs) {
      if (stopped) return;
      try {
        await job();
      } catch (error) {
        deps.logger.warn({ err: error, job: name }, 'maintenance job failed; retrying on the next pass');
      }
    }
  };
  const runOnce = () => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void runOnce().then(schedule), deps.intervalMs);
    timer.unref();
  };
  // Deliveries lost while Billflow was down are caught up at start, not one interval later.
  const starting = catchUp?.().catch((error: unknown) => {
    deps.logger.warn({ err: error, job: 'stripe event catch-up' }, 'maintenance job failed; retrying on the next pass');
  });
  schedule();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await starting;
      await running;
    },
  };
}
