// kill -9 of a process in the middle of a renewal: inside the renewal's transaction (nothing of it
// may remain) and between the committed renewal and its charge (the next pass charges it once).
// After each, renewing again — here and in another process — makes one invoice, one charge.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startSubscription } from '../../src/billing/workflows/index.ts';
import { getSubscription } from '../../src/billing/records/index.ts';
import { TEST_DATABASES } from '../helpers/databases.ts';
import { billingHarness } from '../billing/harness.ts';
import type { BillingHarness } from '../billing/harness.ts';
import { seedCustomer, seedPlan } from '../billing/helpers.ts';
import { assertStatsExact, maintenancePass, quiesce } from '../billing/calendar-support.ts';
import { rows } from '../billing/workflow-support.ts';
import { WorkerProcess, postgresTest, until } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/calendar-process.ts', import.meta.url));

// A harness on PostgreSQL only: another process shares its schema through its URL.
const harness = TEST_DATABASES.includes('postgres') ? billingHarness('postgres') : undefined;

function calendarProcess(url: string, now: Date): WorkerProcess {
  const name = `calendar_${randomBytes(3).toString('hex')}`;
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DATABASE_URL: url, WORKER_NAME: name, CALENDAR_NOW: now.toISOString() },
  });
  return new WorkerProcess(name, child);
}

/** Holds a lock from the test's own session until released: where the other process will wait. */
async function holdLock(url: string, sql: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(sql);
  return {
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** Starts the process, waits until it blocks on the lock, kills it, and waits for its sessions to end. */
async function killWhileBlocked(h: BillingHarness, url: string, now: Date, lockSql: string): Promise<void> {
  const lock = await holdLock(url, lockSql);
  const victim = calendarProcess(url, now);
  try {
    await until(
      'the renewal process to wait on the lock',
      async () => {
        const blocked = await rows<{ n: number }>(
          h.db,
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [victim.name],
        );
        return blocked[0]?.n === 1;
      },
      { timeoutMs: 60_000, intervalMs: 25, describe: async () => victim.tail() },
    );
    victim.child.kill('SIGKILL');
    assert.deepEqual(await victim.exited, { code: null, signal: 'SIGKILL' });
  } finally {
    // Its backend gets the lock, finds its client gone and rolls its transaction back.
    await lock.release();
  }
  await until(
    "the killed process's sessions to end",
    async () => {
      const left = await rows<{ n: number }>(
        h.db,
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [victim.name],
      );
      return left[0]?.n === 0;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}

/** A second renewal of the same moment, in another process: must find nothing to do. */
async function renewElsewhere(url: string, now: Date): Promise<void> {
  const other = calendarProcess(url, now);
  const done = await other.waitFor('the pass to end', (l) => l.event === 'done', 60_000);
  assert.deepEqual({ renewed: done.renewed, errors: done.errors }, { renewed: 0, errors: [] }, other.tail());
  await other.exited;
}

async function invoicesOf(h: BillingHarness, subscriptionId: string) {
  return rows<{ id: string; status: string; period_start: Date }>(
    h.db,
    'SELECT id, status, period_start FROM invoices WHERE subscription_id = $1 ORDER BY period_start',
    [subscriptionId],
  );
}

postgresTest(
  'kill -9 inside a renewal, then inside its charge: renewed twice, one invoice, one charge',
  async () => {
    const h = await (harness as Promise<BillingHarness>);
    const url = h.url as string;
    h.clock.set(new Date('2026-01-10T09:00:00Z'));
    const customer = await seedCustomer(h.db);
    const plan = await seedPlan(h.db, { amount: 4200, currency: 'SEK', interval: 'month' });
    const { record: subscription } = await startSubscription(
      h.db,
      h.registry,
      { customer_id: customer.id, plan_code: plan.code, payment_method: 'pm_card_ok' },
      { now: h.clock.now() },
    );
    await quiesce(h);

    // 1. Killed inside the renewal's transaction, while its invoice waits for the number's lock.
    const firstEnd = new Date('2026-02-10T09:00:00Z');
    h.clock.set(firstEnd);
    await killWhileBlocked(h, url, firstEnd, `SELECT * FROM document_counters WHERE kind = 'invoice' FOR UPDATE`);
    assert.deepEqual(await invoicesOf(h, subscription.id), [], 'nothing of the killed renewal remains');
    assert.deepEqual(
      await rows(h.db, 'SELECT 1 FROM subscription_periods WHERE subscription_id = $1', [subscription.id]),
      [],
    );
    assert.equal(
      (await getSubscription(h.db, subscription.id)).current_period_end.toISOString(),
      firstEnd.toISOString(),
    );
    await maintenancePass(h);
    await renewElsewhere(url, firstEnd);
    await maintenancePass(h);
    await quiesce(h);
    let invoices = await invoicesOf(h, subscription.id);
    assert.deepEqual(
      invoices.map((i) => [i.period_start.toISOString(), i.status]),
      [[firstEnd.toISOString(), 'paid']],
    );

    // 2. Killed after the renewal committed, while its charge waits for the provider.
    const secondEnd = new Date('2026-03-10T09:00:00Z');
    h.clock.set(secondEnd);
    await killWhileBlocked(h, url, secondEnd, 'LOCK TABLE provider_sandbox_charges IN ACCESS EXCLUSIVE MODE');
    const [pending] = await rows<{ charge_status: string }>(
      h.db,
      'SELECT charge_status FROM subscription_periods WHERE subscription_id = $1 AND period_start = $2',
      [subscription.id, secondEnd],
    );
    assert.equal(pending?.charge_status, 'pending', 'the renewal committed, its charge did not happen');
    await renewElsewhere(url, secondEnd);
    await maintenancePass(h);
    await quiesce(h);
    invoices = await invoicesOf(h, subscription.id);
    assert.deepEqual(
      invoices.map((i) => [i.period_start.toISOString(), i.status]),
      [
        [firstEnd.toISOString(), 'paid'],
        [secondEnd.toISOString(), 'paid'],
      ],
    );
    const runs = await rows<{ type: string; n: number }>(
      h.db,
      `SELECT type, count(*)::int AS n FROM workflow_runs WHERE owner_ref = $1 GROUP BY type ORDER BY type`,
      [customer.id],
    );
    assert.deepEqual(runs, [
      { type: 'invoice_creation', n: 2 },
      { type: 'payment_success', n: 2 },
      { type: 'subscription_creation', n: 1 },
    ]);
    const charges = await rows<{ n: number }>(
      h.db,
      `SELECT count(*)::int AS n FROM provider_sandbox_charges WHERE currency = 'SEK'`,
    );
    assert.deepEqual(charges, [{ n: 2 }]);
    assert.deepEqual(await assertStatsExact(h, 'SEK'), { mrr: 4200, revenue: 8400 });
    // Each renewal process boots the TypeScript sources (10-20 s on a busy machine): four of them.
  },
  { timeoutMs: 180_000 },
);
