// Shared pieces of the billing-calendar tests: the calendar's deps on a harness, a maintenance
// pass, waiting until every run has done what the clock allows, and the exact-statistics check.
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/types.ts';
import { startMaintenance } from '../../src/billing/maintenance.ts';
import type { CalendarDeps } from '../../src/billing/calendar/index.ts';
import { compareStats, recurringRevenue } from '../../src/billing/stats/index.ts';
import type { BillingHarness } from './harness.ts';
import { rows } from './workflow-support.ts';

export const DAY = 86_400_000;

export function calendarDeps(h: BillingHarness, overrides: Partial<CalendarDeps> = {}): CalendarDeps {
  return {
    registry: h.registry,
    provider: h.provider,
    notify: h.notify,
    clock: h.clock.now,
    owner: 'billflow',
    trialReminderDays: 3,
    ...overrides,
  };
}

/** One pass of the workers' maintenance loop (calendar included), as a worker process runs it. */
export async function maintenancePass(h: BillingHarness, db: Db = h.db, overrides: Partial<CalendarDeps> = {}) {
  const warnings: unknown[] = [];
  const maintenance = startMaintenance(db, {
    alerts: h.notify,
    intervalMs: 3_600_000,
    logger: { warn: (obj) => warnings.push(obj) },
    calendar: calendarDeps(h, overrides),
  });
  await maintenance.runOnce();
  await maintenance.stop();
  assert.deepEqual(warnings, [], 'the maintenance pass warned');
}

interface Busy {
  id: string;
  type: string;
  status: string;
  wait_reason: string | null;
  run_at: Date;
  step: string | null;
}

/**
 * Waits until no run has anything to do at the test clock's now: every run is finished or parked
 * on a durable timer that is not due yet. A run waiting to retry a step (an email that timed out
 * on a busy machine) gets the clock moved to its retry, no further; one that fails is a failure
 * of the test, named with its step.
 */
export async function quiesce(h: BillingHarness, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = await rows<Busy>(
      h.db,
      `SELECT id, type, status, wait_reason, run_at, steps[step_index + 1] AS step FROM workflow_runs
       WHERE status = 'pending'
          OR (status = 'in_progress' AND (wait_reason IS DISTINCT FROM 'timer' OR run_at <= $1))`,
      [h.clock.now()],
    );
    const [failed] = await rows<{ id: string; type: string; failed_step: string; error: unknown }>(
      h.db,
      `SELECT id, type, failed_step, error FROM workflow_runs WHERE status = 'failed' LIMIT 1`,
    );
    if (failed)
      assert.fail(`${failed.type} ${failed.id} failed at ${failed.failed_step}: ${JSON.stringify(failed.error)}`);
    if (busy.length === 0) return;
    const retry = busy.find((r) => r.wait_reason === 'retry' && r.run_at > h.clock.now());
    if (retry) h.clock.set(new Date(retry.run_at.getTime() + 1));
    if (Date.now() > deadline) assert.fail(`runs still busy: ${JSON.stringify(busy)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The statistics equal a recount of the records, and the recurring revenue (MRR/ARR from the
 * subscriptions) equals the sum of the ARR counters up to today. Returns MRR and revenue in
 * `currency` for the caller's own expectations.
 */
export async function assertStatsExact(h: BillingHarness, currency: string): Promise<{ mrr: number; revenue: number }> {
  const comparison = await compareStats(h.db);
  assert.deepEqual(comparison.differences, [], 'the counters equal the recount');
  const recurring = (await recurringRevenue(h.db, h.clock.now())).find((r) => r.currency === currency);
  const [counted] = await rows<{ arr: string; revenue: string }>(
    h.db,
    `SELECT coalesce(sum(value) FILTER (WHERE metric = 'arr'), 0)::text AS arr,
       coalesce(sum(value) FILTER (WHERE metric = 'revenue'), 0)::text AS revenue
     FROM stats_daily WHERE currency = $1 AND day <= ($2::timestamptz AT TIME ZONE 'UTC')::date`,
    [currency, h.clock.now()],
  );
  assert.equal(Number(counted?.arr ?? 0), recurring?.arr ?? 0, 'ARR counters equal the subscriptions');
  const [paid] = await rows<{ total: string }>(
    h.db,
    `SELECT coalesce(sum(amount), 0)::text AS total FROM payments WHERE status = 'succeeded' AND currency = $1`,
    [currency],
  );
  assert.equal(Number(counted?.revenue ?? 0), Number(paid?.total), 'revenue equals the succeeded payments');
  return { mrr: recurring?.mrr ?? 0, revenue: Number(counted?.revenue ?? 0) };
}
