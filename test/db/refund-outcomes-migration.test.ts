// Migration 0013 settles the refunds older releases left pending after their run stopped before
// the provider refund: failed or cancelled as their run, the amount given back to the payment.
// Refunds whose run got past the provider, that another run carries on, or that were counted,
// are left as they are.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadMigrations, migrate } from '../../src/db/migrate.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';

const STEPS = [
  'record_refund',
  'execute_provider_refund',
  'update_stats',
  'send_customer_email',
  'send_internal_notification',
];

interface Case {
  refund: string;
  runs: { status: string; stepIndex: number }[];
  counted?: boolean;
  want: { status: string; reason: string | null };
}

const CASES: Case[] = [
  {
    refund: 're_failedbefore',
    runs: [{ status: 'failed', stepIndex: 0 }],
    want: { status: 'failed', reason: 'not executed: the run failed at record_refund' },
  },
  {
    refund: 're_failedat',
    runs: [{ status: 'failed', stepIndex: 1 }],
    want: { status: 'failed', reason: 'not executed: the run failed at execute_provider_refund' },
  },
  {
    refund: 're_cancelledat',
    runs: [{ status: 'cancelled', stepIndex: 1 }],
    want: { status: 'cancelled', reason: 'not executed: the run was cancelled at execute_provider_refund' },
  },
  // Past the provider refund: the money moved.
  { refund: 're_failedafter', runs: [{ status: 'failed', stepIndex: 2 }], want: { status: 'pending', reason: null } },
  // Another run of the same refund completed it.
  {
    refund: 're_rerun',
    runs: [
      { status: 'cancelled', stepIndex: 1 },
      { status: 'completed', stepIndex: 5 },
    ],
    want: { status: 'pending', reason: null },
  },
  // Counted already: the statistics include it.
  {
    refund: 're_counted',
    runs: [{ status: 'failed', stepIndex: 1 }],
    counted: true,
    want: { status: 'pending', reason: null },
  },
  // Still on its way.
  { refund: 're_running', runs: [{ status: 'in_progress', stepIndex: 1 }], want: { status: 'pending', reason: null } },
];

const AMOUNT = 100;

eachDatabase((kind) => {
  describe('migration 0013 (refund outcomes)', () => {
    it('settles the refunds whose run stopped before the provider refund, and only those', async () => {
      const { db } = await freshDatabase(kind, { migrate: false });
      const all = await loadMigrations();
      await migrate(
        db,
        all.filter((m) => m.version < 13),
      );
      await db.query(`INSERT INTO customers (id, email) VALUES ('cus_old', 'old@example.com')`);
      await db.query(
        `INSERT INTO payments (id, customer_id, amount, currency, status, refunded_amount)
         VALUES ('pay_old', 'cus_old', 10000, 'EUR', 'succeeded', $1)`,
        [AMOUNT * CASES.length],
      );
      let n = 0;
      for (const c of CASES) {
        await db.query(
          `INSERT INTO refunds (id, payment_id, customer_id, amount, currency, status, counted_at)
           VALUES ($1, 'pay_old', 'cus_old', $2, 'EUR', 'pending', $3)`,
          [c.refund, AMOUNT, c.counted ? new Date() : null],
        );
        for (const run of c.runs) {
          await db.query(
            `INSERT INTO workflow_runs (id, type, status, steps, step_index, subject_ref, created_at)
             VALUES ($1, 'refund_creation', $2, $3, $4, $5, now() + make_interval(secs => $6))`,
            [`run_old${n}`, run.status, STEPS, run.stepIndex, c.refund, n],
          );
          n++;
        }
      }

      await migrate(db, all);

      const { rows } = await db.query<{ id: string; status: string; failure_reason: string | null }>(
        `SELECT id, status, failure_reason FROM refunds ORDER BY id`,
      );
      const got = Object.fromEntries(rows.map((r) => [r.id, { status: r.status, reason: r.failure_reason }]));
      assert.deepEqual(got, Object.fromEntries(CASES.map((c) => [c.refund, c.want])));
      const settled = CASES.filter((c) => c.want.status !== 'pending').length;
      const payment = await db.query<{ refunded: string }>(
        `SELECT refunded_amount::text AS refunded FROM payments WHERE id = 'pay_old'`,
      );
      assert.equal(Number(payment.rows[0]?.refunded), AMOUNT * (CASES.length - settled));
    });
  });
});
