import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db, Queryable } from '../../src/db/types.ts';
import { connectPostgres } from '../../src/db/postgres.ts';
import { compactRunCounts, countRuns, getRun, listRuns } from '../../src/engine/index.ts';
import { getPayment } from '../../src/billing/records/index.ts';
import { compareStats } from '../../src/billing/stats/index.ts';
import { startPayment } from '../../src/billing/workflows/index.ts';
import { startMaintenance } from '../../src/billing/maintenance.ts';
import { createPruner } from '../../src/billing/retention.ts';
import { reconcile } from '../../src/billing/reconciliation/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import { seedCustomer } from './helpers.ts';
import { assertCompleted } from './workflow-support.ts';

/** The counters and a GROUP BY over the runs, read in one snapshot. */
async function bothCounts(db: Db) {
  await compactRunCounts(db);
  return db.transaction(async (tx: Queryable) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const counted = await countRuns(tx);
    const { rows } = await tx.query<{ type: string; status: string; count: number }>(
      `SELECT type, status, count(*)::int AS count FROM workflow_runs GROUP BY type, status ORDER BY type, status`,
    );
    return { counted, grouped: rows };
  });
}

async function countOf(q: Queryable, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) x`, params);
  return rows[0]?.n ?? -1;
}

/** Moves everything written so far `days` into the past (as if it happened then). */
async function age(db: Db, days: number) {
  const shift = `interval '${days} days'`;
  await db.exec(`
    UPDATE workflow_runs SET created_at = created_at - ${shift}, updated_at = updated_at - ${shift},
      started_at = started_at - ${shift}, finished_at = finished_at - ${shift}, failed_at = failed_at - ${shift};
    UPDATE message_sends SET created_at = created_at - ${shift};
    UPDATE email_outbox SET created_at = created_at - ${shift};
    UPDATE notifications SET created_at = created_at - ${shift};
    UPDATE audit_log SET at = at - ${shift};`);
}

eachDatabase((kind) => {
  test('the maintenance loop deletes a completed run past the retention with its history; its payment, receipt and statistics stay', async () => {
    const h = await billingHarness(kind);
    const customer = await seedCustomer(h.db, { name: 'Ada Lovelace' });
    const started = await startPayment(
      h.db,
      h.registry,
      { customer_id: customer.id, amount: 4900, currency: 'eur', status: 'succeeded', provider_reference: 'ext_ret' },
      { idempotencyKey: `api:retention-${kind}`, now: h.clock.now() },
    );
    assertCompleted(await h.settle(started.runId));
    const runId = started.runId;
    const paymentId = started.record.id;
    assert.ok((await countOf(h.db, 'SELECT 1 FROM message_sends WHERE run_id = $1', [runId])) > 0, 'the run sent mail');
    const notices = await h.db.query<{ id: string }>(`SELECT id FROM notifications WHERE run_id = $1`, [runId]);
    assert.ok(notices.rows.length > 0, 'the run posted a notice');
    // One notice read by someone; a second, unread one (no run) stays however old.
    await h.db.query(
      `INSERT INTO notification_reads (reader, notification_id, read_at) VALUES ('user:usr_a', $1, now())`,
      [notices.rows[0]?.id],
    );
    await h.db.query(
      `INSERT INTO notifications (id, kind, event, severity, title, body) VALUES ('ntf_unread', 'notice', 'x', 'info', 't', 'b')`,
    );
    await h.db.query(
      `INSERT INTO audit_log (id, at, actor, action) VALUES ('aud_old', now() - interval '100 days', 'cli', 'user.create')`,
    );
    const statsBefore = await compareStats(h.db);
    assert.deepEqual(statsBefore.differences, []);

    await age(h.db, 91);
    h.clock.set(new Date());
    const logged: object[] = [];
    const maintenance = startMaintenance(h.db, {
      alerts: h.notify,
      intervalMs: 3_600_000,
      logger: { warn: (o) => logged.push(o), info: (o) => logged.push(o) },
      retention: { days: 90, auditDays: 365 },
    });
    await maintenance.runOnce();
    await maintenance.stop();

    await assert.rejects(getRun(h.db, runId), /not found/);
    for (const table of ['workflow_steps', 'workflow_run_events', 'message_sends', 'email_outbox']) {
      assert.equal(await countOf(h.db, `SELECT 1 FROM ${table} WHERE run_id = $1`, [runId]), 0, table);
    }
    assert.equal(await countOf(h.db, `SELECT 1 FROM notifications WHERE id = $1`, [notices.rows[0]?.id]), 0);
    assert.equal(await countOf(h.db, `SELECT 1 FROM notification_reads`), 0);
    assert.equal(await countOf(h.db, `SELECT 1 FROM notifications WHERE id = 'ntf_unread'`), 1);
    // 191 days old: within the audit log's own 365 days.
    assert.equal(await countOf(h.db, `SELECT 1 FROM audit_log WHERE id = 'aud_old'`), 1);
    // The billing records stay: the payment, its receipt, the customer, the statistics.
    const payment = await getPayment(h.db, paymentId);
    assert.equal(payment.status, 'succeeded');
    assert.equal(await countOf(h.db, `SELECT 1 FROM receipts WHERE payment_id = $1`, [paymentId]), 1);
    assert.equal(await countOf(h.db, `SELECT 1 FROM customers WHERE id = $1`, [customer.id]), 1);
    assert.deepEqual((await compareStats(h.db)).differences, []);
    // Reconciliation knows retention took the run: the payment without its run is no finding,
    // while a payment as young as the retention without a run still is.
    const recordsHaveRuns = async () =>
      (await reconcile(h.db, { now: new Date() })).checks.find((c) => c.name === 'records_have_runs');
    assert.equal((await recordsHaveRuns())?.ok, true, JSON.stringify(await recordsHaveRuns()));
    await h.db.query(`UPDATE payments SET created_at = now() - interval '89 days' WHERE id = $1`, [paymentId]);
    assert.deepEqual(
      (await recordsHaveRuns())?.findings.map((f) => f.objects[0]?.id),
      [paymentId],
    );
    const { counted, grouped } = await bothCounts(h.db);
    assert.deepEqual(counted, grouped);
    assert.ok(
      logged.some((o) => 'deleted' in o),
      `the pass logs what it deleted: ${JSON.stringify(logged)}`,
    );
  });

  test('200,000 old runs (50,000 embedded): deleted in bounded batches, failed and unfinished runs and billing records stay, counts stay exact', async () => {
    const { db, url } = await freshDatabase(kind);
    const now = new Date();
    // The embedded database is ~3x slower per row and serves small installations: a quarter.
    const total = kind === 'postgres' ? 200_000 : 50_000;
    // Old: 120 days. Per 50 runs: one failed, one in progress (a durable wait), one pending; of
    // the rest, one in ten cancelled, the others completed. Each with a step; every tenth with an
    // event and a send.
    await db.exec(`
      INSERT INTO workflow_runs (id, type, status, steps, step_index, created_at, updated_at, started_at,
                                 finished_at, failed_at, failed_step, wait_reason, run_at, outcome)
      SELECT 'run_old_' || lpad(g::text, 6, '0'),
             (ARRAY['payment_success', 'subscription_creation'])[1 + g % 2],
             s.status, ARRAY['only'], CASE WHEN s.status IN ('completed', 'cancelled') THEN 1 ELSE 0 END,
             t.at, t.at, t.at,
             CASE WHEN s.status IN ('completed', 'cancelled') THEN t.at + interval '1 minute' END,
             CASE WHEN s.status = 'failed' THEN t.at END,
             CASE WHEN s.status = 'failed' THEN 'only' END,
             CASE WHEN s.status = 'in_progress' THEN 'timer' END,
             CASE WHEN s.status = 'pending' THEN now() + interval '1 day'
                  WHEN s.status = 'in_progress' THEN now() + interval '30 days' ELSE t.at END,
             CASE WHEN s.status = 'completed' THEN 'completed' END
      FROM generate_series(1, ${total}) g,
        LATERAL (SELECT CASE WHEN g % 50 = 0 THEN 'failed' WHEN g % 50 = 1 THEN 'in_progress'
                             WHEN g % 50 = 2 THEN 'pending' WHEN g % 10 = 3 THEN 'cancelled'
                             ELSE 'completed' END AS status) s,
        LATERAL (SELECT now() - interval '120 days' + g * interval '1 second' AS at) t;
      INSERT INTO workflow_steps (run_id, step_index, name, status, started_at, finished_at)
      SELECT id, 0, 'only', CASE status WHEN 'failed' THEN 'failed' WHEN 'completed' THEN 'completed'
                                        WHEN 'cancelled' THEN 'completed' ELSE 'waiting' END, created_at, created_at
      FROM workflow_runs;
      INSERT INTO workflow_run_events (run_id, action, actor, created_at)
      SELECT id, 'restart', 'user:usr_ops', created_at FROM workflow_runs WHERE right(id, 1) = '7';
      INSERT INTO message_sends (send_key, channel, transport, kind, run_id, recipient, status, created_at)
      SELECT id || ':only:email', 'email', 'smtp', 'receipt', id, 'a@example.com', 'sent', created_at
      FROM workflow_runs WHERE right(id, 1) = '7';`);
    // Recent runs (kept) and billing records made by old runs (kept).
    await db.exec(`
      INSERT INTO workflow_runs (id, type, status, steps, step_index, finished_at, outcome)
      SELECT 'run_new_' || g, 'payment_success', 'completed', ARRAY['only'], 1, now(), 'completed'
      FROM generate_series(1, 100) g;
      INSERT INTO customers (id, email, name) VALUES ('cus_ret', 'ret@example.com', 'Retained');
      INSERT INTO payments (id, customer_id, amount, currency, status, created_at)
      SELECT 'pay_ret_' || g, 'cus_ret', 100, 'USD', 'succeeded', now() - interval '120 days'
      FROM generate_series(1, 100) g;`);
    const expected = await db.query<{ kept: number; gone: number; kept_sends: number }>(
      `SELECT count(*) FILTER (WHERE status NOT IN ('completed', 'cancelled') OR id LIKE 'run_new_%')::int AS kept,
              count(*) FILTER (WHERE status IN ('completed', 'cancelled') AND id LIKE 'run_old_%')::int AS gone,
              (SELECT count(*)::int FROM message_sends s JOIN workflow_runs r ON r.id = s.run_id
               WHERE r.status NOT IN ('completed', 'cancelled')) AS kept_sends
       FROM workflow_runs`,
    );
    const { kept, gone, kept_sends: keptSends } = expected.rows[0] ?? assert.fail();
    assert.equal(kept + gone, total + 100);
    assert.equal(gone, total * 0.94);

    // On PostgreSQL, the admin UI's and the workers' queries run on other connections while a
    // batch's transaction is open: none may wait for a lock (lock_timeout makes waiting an error).
    let other: Db | undefined;
    if (kind === 'postgres' && url) {
      const u = new URL(url);
      u.searchParams.set('options', `${u.searchParams.get('options') ?? ''} -c lock_timeout=2000`);
      other = connectPostgres({ connectionString: u.toString(), maxConnections: 2 });
    }
    const batchSize = 1000;
    const batches: { rule: string; deleted: number }[] = [];
    let checkedMidway = false;
    const prune = createPruner(db, { days: 90, auditDays: 365 });
    let passes = 0;
    for (;;) {
      passes++;
      const result = await prune({
        now,
        batchSize,
        maxBatches: 50,
        onBatch: async (batch) => {
          batches.push(batch);
          if (!other || checkedMidway || batch.rule !== 'completed runs' || batches.length < 20) return;
          checkedMidway = true;
          // Mid-way: some batches committed, this one's rows deleted but not committed yet.
          const remaining = await countOf(other, `SELECT 1 FROM workflow_runs WHERE id LIKE 'run_old_%'`);
          assert.ok(remaining < total && remaining > total - gone, `mid-way (${remaining} old runs left)`);
          const page = await listRuns(other, { status: 'completed' }, { limit: 50 });
          assert.equal(page.items.length, 50);
          const failed = await listRuns(other, { status: 'failed' }, { limit: 50, sort: 'failed_desc' });
          assert.equal(failed.items.length, 50);
          assert.ok((await countRuns(other)).length > 0);
          // A worker's write (a new run, a status change) goes on too.
          await other.query(
            `INSERT INTO workflow_runs (id, type, status, steps) VALUES ('run_during', 'payment_success', 'pending', ARRAY['only'])`,
          );
          await other.query(`UPDATE workflow_runs SET status = 'in_progress' WHERE id = 'run_during'`);
        },
      });
      if (result.done) break;
      assert.ok(passes < 1000, 'retention finishes');
    }
    await other?.close();
    if (kind === 'postgres') assert.ok(checkedMidway, 'queries ran while a batch was open');
    // Several passes: each call stops after its share of batches.
    assert.ok(passes >= Math.ceil(gone / batchSize / 50), `passes: ${passes}`);
    assert.ok(batches.every((b) => b.deleted <= batchSize));
    const runBatches = batches.filter((b) => b.rule.endsWith(' runs') && b.deleted > 0);
    assert.ok(runBatches.length >= gone / batchSize, `${runBatches.length} batches of runs`);
    assert.equal(
      runBatches.reduce((sum, b) => sum + b.deleted, 0),
      gone,
    );

    // What stays: every failed, pending and in-progress run with its step and sends; recent runs.
    const during = kind === 'postgres' ? 1 : 0;
    assert.equal(await countOf(db, 'SELECT 1 FROM workflow_runs'), kept + during);
    assert.equal(
      await countOf(
        db,
        `SELECT 1 FROM workflow_runs WHERE status IN ('completed', 'cancelled') AND id LIKE 'run_old_%'`,
      ),
      0,
    );
    assert.equal(await countOf(db, `SELECT 1 FROM workflow_steps`), kept - 100);
    assert.equal(
      await countOf(
        db,
        `SELECT 1 FROM workflow_steps s WHERE NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = s.run_id)`,
      ),
      0,
    );
    assert.equal(await countOf(db, `SELECT 1 FROM message_sends`), keptSends);
    assert.equal(
      await countOf(db, `SELECT 1 FROM workflow_run_events e JOIN workflow_runs r ON r.id = e.run_id`),
      await countOf(db, `SELECT 1 FROM workflow_run_events`),
    );
    assert.equal(await countOf(db, `SELECT 1 FROM payments WHERE id LIKE 'pay_ret_%'`), 100);
    assert.equal(await countOf(db, `SELECT 1 FROM customers WHERE id = 'cus_ret'`), 1);
    const { counted, grouped } = await bothCounts(db);
    assert.deepEqual(counted, grouped);
    // Nothing left to do: a further call deletes nothing.
    const again = await prune({ now, batchSize });
    assert.equal(again.done, true);
    assert.equal(
      Object.values(again.deleted).reduce((a, b) => a + b, 0),
      0,
    );
  });

  test('0 keeps everything; a run finished within the retention stays even if it was created long ago', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec(`
      INSERT INTO workflow_runs (id, type, status, steps, step_index, created_at, finished_at)
      VALUES ('run_a', 'payment_success', 'completed', ARRAY['only'], 1, now() - interval '200 days', now() - interval '200 days'),
             ('run_b', 'invoice_creation', 'completed', ARRAY['only'], 1, now() - interval '200 days', now() - interval '10 days');
      INSERT INTO audit_log (id, at, actor, action) VALUES ('aud_a', now() - interval '400 days', 'cli', 'x');`);
    const none = await createPruner(db, { days: 0, auditDays: 0 })({ now: new Date() });
    assert.deepEqual(none, { deleted: {}, done: true });
    assert.equal(await countOf(db, 'SELECT 1 FROM workflow_runs'), 2);
    const some = await createPruner(db, { days: 90, auditDays: 365 })({ now: new Date() });
    assert.equal(some.deleted['completed runs'], 1);
    assert.equal(some.deleted['audit entries'], 1);
    assert.deepEqual(
      (await db.query<{ id: string }>('SELECT id FROM workflow_runs')).rows.map((r) => r.id),
      ['run_b'],
    );
  });

  test('webhook messages past the retention go with their deliveries and attempts, unless one is pending', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec(`
      INSERT INTO webhook_endpoints (id, url, secret, created_at, updated_at)
      VALUES ('whe_a', 'https://a.example/hook', 'whsec_x', now(), now()),
             ('whe_b', 'https://b.example/hook', 'whsec_y', now(), now());
      INSERT INTO webhook_events (id, type, payload, created_at)
      VALUES ('msg_delivered', 'payment.succeeded', '{}', now() - interval '100 days'),
             ('msg_failed', 'payment.failed', '{}', now() - interval '100 days'),
             ('msg_pending', 'invoice.paid', '{}', now() - interval '100 days'),
             ('msg_young', 'invoice.paid', '{}', now() - interval '10 days');
      INSERT INTO webhook_deliveries (event_id, endpoint_id, status, attempt_count, created_at)
      VALUES ('msg_delivered', 'whe_a', 'delivered', 1, now() - interval '100 days'),
             ('msg_failed', 'whe_a', 'failed', 9, now() - interval '100 days'),
             ('msg_pending', 'whe_a', 'delivered', 1, now() - interval '100 days'),
             ('msg_pending', 'whe_b', 'pending', 8, now() - interval '100 days'),
             ('msg_young', 'whe_a', 'delivered', 1, now() - interval '10 days');
      INSERT INTO webhook_attempts (id, event_id, endpoint_id, attempt, attempted_at, ok, status_code, latency_ms)
      VALUES ('wha_1', 'msg_delivered', 'whe_a', 1, now() - interval '100 days', true, 200, 5),
             ('wha_2', 'msg_failed', 'whe_a', 9, now() - interval '97 days', false, 500, 5),
             ('wha_3', 'msg_pending', 'whe_b', 8, now() - interval '95 days', false, 503, 5),
             ('wha_4', 'msg_young', 'whe_a', 1, now() - interval '10 days', true, 200, 5);`);
    const result = await createPruner(db, { days: 90, auditDays: 0 })({ now: new Date() });
    assert.equal(result.deleted['webhook events'], 2);
    const ids = async (sql: string) => (await db.query<{ id: string }>(sql)).rows.map((r) => r.id);
    assert.deepEqual(await ids('SELECT id FROM webhook_events ORDER BY id'), ['msg_pending', 'msg_young']);
    assert.deepEqual(await ids("SELECT event_id || '/' || endpoint_id AS id FROM webhook_deliveries ORDER BY 1"), [
      'msg_pending/whe_a',
      'msg_pending/whe_b',
      'msg_young/whe_a',
    ]);
    assert.deepEqual(await ids('SELECT id FROM webhook_attempts ORDER BY id'), ['wha_3', 'wha_4']);
    assert.equal(await countOf(db, 'SELECT 1 FROM webhook_endpoints'), 2, 'endpoints are configuration, never history');
  });
});
