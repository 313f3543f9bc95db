// "Did we lose anything?": after real subscriptions ran through their workflows, a lost run (a
// billing record without its run), a stats drift, a provider mismatch (cancelled in Billflow,
// active in the sandbox), a run stuck past its lease and an unhandled Stripe event are injected;
// each must be reported — by GET /api/v1/reconciliation, by the daily maintenance check (with its
// alert), and by `billflow reconcile` (PostgreSQL: the compiled CLI, run as a process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { updateNotificationSettings } from '../../src/billing/notifications/index.ts';
import { requestCancellation, startSubscription } from '../../src/billing/workflows/index.ts';
import { announceReconciliation, reconcile, runDailyReconciliation } from '../../src/billing/reconciliation/index.ts';
import type { ReconciliationReport } from '../../src/billing/reconciliation/index.ts';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { buildServer } from '../../src/http/server.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import { seedCustomer, seedPlan } from './helpers.ts';

const BIN = path.resolve('bin/billflow.js');

function billflow(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

/** What each check found, as `check: message` lines, with the UI links of the objects. */
function summary(report: ReconciliationReport) {
  return Object.fromEntries(
    report.checks.map((c) => [
      c.name,
      {
        count: c.finding_count,
        findings: c.findings.map((f) => ({ message: f.message, urls: f.objects.map((o) => o.url) })),
      },
    ]),
  );
}

eachDatabase((kind) => {
  const harness = billingHarness(kind);

  test('a lost run, a stats drift, a provider mismatch, a stuck run and an unhandled event are each reported', async () => {
    const h = await harness;
    const plan = await seedPlan(h.db, { amount: 4900, currency: 'EUR' });
    const subscribe = async (tag: string) => {
      const customer = await seedCustomer(h.db);
      const started = await startSubscription(
        h.db,
        h.registry,
        { customer_id: customer.id, plan_code: plan.code, payment_method: 'pm_card_ok' },
        { idempotencyKey: `api:${tag}-${kind}`, now: h.clock.now() },
      );
      const run = await h.settle(started.runId);
      assert.equal(run.status, 'completed');
      return { customer, subscription: started.record };
    };
    const kept = await subscribe('kept');
    const cancelled = await subscribe('cancelled');
    const orphan = await subscribe('orphan');
    const cancellation = await requestCancellation(
      h.db,
      h.registry,
      { subscription_id: cancelled.subscription.id, mode: 'immediately', refund: 'none' },
      { idempotencyKey: `api:cancel-${kind}`, now: h.clock.now() },
    );
    assert.equal((await h.settle(cancellation.runId)).status, 'completed');

    // Everything ran as it should: nothing to report.
    const clean = await reconcile(h.db, { provider: h.provider, now: h.clock.now() });
    assert.equal(clean.ok, true, JSON.stringify(summary(clean)));
    assert.deepEqual(
      clean.checks.map((c) => [c.name, c.ok]),
      [
        ['records_have_runs', true],
        ['stripe_events_handled', true],
        ['stats_match_recount', true],
        ['runs_within_lease', true],
        ['provider_subscriptions', true],
        ['provider_refunds', true],
      ],
    );

    // A subscription whose run is gone.
    const { rows: orphanRuns } = await h.db.query<{ id: string }>(
      'DELETE FROM workflow_runs WHERE subject_ref = $1 RETURNING id',
      [orphan.subscription.id],
    );
    assert.equal(orphanRuns.length, 1);
    // A counter one off.
    const { rows: counters } = await h.db.query<{ metric: string; day: string }>(
      `UPDATE stats_daily SET value = value + 1
       WHERE (metric, currency, day) = (SELECT metric, currency, day FROM stats_daily
                                        WHERE metric = 'subscriptions_created' LIMIT 1)
       RETURNING metric, day::text AS day`,
    );
    assert.equal(counters.length, 1);
    // Cancelled in Billflow (and at the provider, by its run); then the sandbox loses the cancellation.
    const { rowCount: revived } = await h.db.query(
      `UPDATE provider_sandbox_subscriptions SET canceled_at = NULL, cancel_at = NULL, cancel_at_period_end = false
       WHERE subscription_id = $1 AND canceled_at IS NOT NULL`,
      [cancelled.subscription.id],
    );
    assert.equal(revived, 1);
    // A run whose worker vanished an hour ago (a type no worker here runs, so none takes it over).
    await h.db.query(
      `INSERT INTO workflow_runs (id, type, steps, status, lease_owner, run_at, input)
       VALUES ('run_stuckrun', 'ghost_type', ARRAY['only'], 'in_progress', 'wrk_gone', $1, '{}')`,
      [new Date(h.clock.now().getTime() - 3_600_000)],
    );
    // A Stripe event received two hours ago and never handled (the handler died).
    const long = new Date(h.clock.now().getTime() - 7_200_000);
    await h.db.query(
      `INSERT INTO stripe_events (id, type, object_id, livemode, created, received_at, last_received_at, payload)
       VALUES ('evt_unhandled', 'invoice.paid', 'in_1', false, $1, $1, $1, '{}')`,
      [long],
    );

    const expected = {
      records_have_runs: {
        count: 1,
        findings: [
          {
            message: `subscription ${orphan.subscription.id} has no workflow run`,
            urls: [`/records/subscription/${orphan.subscription.id}`],
          },
        ],
      },
      stripe_events_handled: {
        count: 1,
        findings: [
          {
            message: 'Stripe event evt_unhandled (invoice.paid) is still received: it was never handled',
            urls: ['https://dashboard.stripe.com/test/events/evt_unhandled'],
          },
        ],
      },
      stats_match_recount: {
        count: 1,
        findings: [
          {
            message: `subscriptions_created EUR on ${counters[0]?.day}: the counter says 4, a recount of the records gives 3`,
            urls: ['/'],
          },
        ],
      },
      runs_within_lease: {
        count: 1,
        findings: [
          {
            message:
              'run run_stuckrun (ghost_type) is in progress at only under wrk_gone, whose lease expired at ' +
              new Date(h.clock.now().getTime() - 3_600_000).toISOString(),
            urls: ['/runs/run_stuckrun'],
          },
        ],
      },
      provider_subscriptions: {
        count: 1,
        findings: [
          {
            message: new RegExp(
              `^subscription ${cancelled.subscription.id} is cancelled in Billflow but active at the provider`,
            ),
            urls: [`/records/subscription/${cancelled.subscription.id}`, `/customers/${cancelled.customer.id}`],
          },
        ],
      },
      provider_refunds: { count: 0, findings: [] },
    };
    const check = (report: ReconciliationReport) => {
      assert.equal(report.ok, false);
      assert.equal(report.finding_count, 5, JSON.stringify(summary(report), null, 1));
      const got = summary(report);
      for (const [name, want] of Object.entries(expected)) {
        const have = got[name];
        assert.equal(have?.count, want.count, name);
        assert.equal(have?.findings.length, want.findings.length, name);
        want.findings.forEach((f, i) => {
          const h2 = have?.findings[i];
          if (f.message instanceof RegExp) assert.match(h2?.message ?? '', f.message, name);
          else assert.equal(h2?.message, f.message, name);
          assert.deepEqual(h2?.urls, f.urls, name);
        });
      }
      assert.ok(!JSON.stringify(report).includes(kept.subscription.id), 'the subscription that agrees is not reported');
    };

    // Through the API.
    const app = buildServer({
      db: h.db,
      clock: h.clock.now,
      publicUrl: 'http://billflow.test',
      billing: { registry: h.registry, provider: h.provider, notify: h.notify },
    });
    try {
      await app.ready();
      const key = async (role: 'account_manager' | 'customer_support') =>
        (await createApiKey(h.db, { name: role, role, expiresAt: null, createdBy: null, now: h.clock.now() })).key;
      const support = await app.inject({
        method: 'GET',
        url: '/api/v1/reconciliation',
        headers: { authorization: `Bearer ${await key('customer_support')}` },
      });
      assert.equal(support.statusCode, 403);
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/reconciliation',
        headers: { authorization: `Bearer ${await key('account_manager')}` },
      });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json() as { report: ReconciliationReport; last_daily: ReconciliationReport | null };
      check(body.report);
      assert.equal(body.last_daily, null);

      // The daily check: once a day, with one alert in the feed.
      const daily = await runDailyReconciliation(h.db, { provider: h.provider, notify: h.notify });
      assert.ok(daily);
      check(daily);
      assert.equal(await runDailyReconciliation(h.db, { provider: h.provider, notify: h.notify }), null);
      const { rows: days } = await h.db.query<{ ok: boolean; finding_count: number }>(
        'SELECT ok, finding_count FROM reconciliation_days',
      );
      assert.deepEqual(days, [{ ok: false, finding_count: 5 }]);
      const { rows: alerts } = await h.db.query<{ kind: string; title: string; body: string }>(
        `SELECT kind, title, body FROM notifications WHERE event = 'reconciliation_failed'`,
      );
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]?.kind, 'alert');
      assert.equal(alerts[0]?.title, 'Reconciliation: 5 findings');
      assert.match(alerts[0]?.body ?? '', /Every billing record has its run: 1/);
      assert.match(alerts[0]?.body ?? '', /http:\/\/billflow\.test\/reconciliation/);
      // Where run failures go: Slack (and the team's email when set), once a day.
      await updateNotificationSettings(
        h.db,
        'run_failed',
        { team_email: true, team_emails: ['ops@acme.test'] },
        'test',
      );
      const day = h.clock.now().toISOString().slice(0, 10);
      await announceReconciliation(h.db, h.notify, day);
      await announceReconciliation(h.db, h.notify, day);
      const posted = h.slack.received.filter((m) => /Reconciliation: 5 findings/.test(JSON.stringify(m)));
      assert.equal(posted.length, 1);
      assert.match(JSON.stringify(posted[0]), /Every billing record has its run: 1/);
      const mailed = h.smtp.received.filter((m) => m.to.includes('ops@acme.test'));
      assert.equal(mailed.length, 1);
      assert.equal(mailed[0]?.mail.subject, 'Reconciliation: 5 findings');
      assert.equal(
        (await h.db.query(`SELECT 1 FROM notifications WHERE event = 'reconciliation_failed'`)).rows.length,
        1,
        'the feed has it once',
      );
      const again = await app.inject({
        method: 'GET',
        url: '/api/v1/reconciliation',
        headers: { authorization: `Bearer ${await key('account_manager')}` },
      });
      check((again.json() as { last_daily: ReconciliationReport }).last_daily);
    } finally {
      await app.close();
    }

    // Through the command line, on the same database.
    if (h.url) {
      const cli = await billflow(['reconcile', '--json'], {
        DATABASE_URL: h.url,
        BILLFLOW_PAYMENT_PROVIDER: 'sandbox',
      });
      assert.equal(cli.code, 3, cli.stderr);
      const report = JSON.parse(cli.stdout) as ReconciliationReport;
      // The CLI runs on the real clock: the stuck run and the old event are older still.
      assert.equal(report.finding_count, 5);
      assert.deepEqual(
        report.checks.map((c) => [c.name, c.finding_count]),
        Object.entries(expected).map(([name, e]) => [name, e.count]),
      );
      const table = await billflow(['reconcile'], { DATABASE_URL: h.url, BILLFLOW_PUBLIC_URL: 'https://ops.example' });
      assert.equal(table.code, 3, table.stderr);
      assert.match(table.stdout, /^5 findings/);
      assert.match(
        table.stdout,
        new RegExp(`FAIL {2}Every billing record has its run — 1\n {6}- subscription ${orphan.subscription.id} has no`),
      );
      assert.match(
        table.stdout,
        new RegExp(
          `subscription ${orphan.subscription.id}: https://ops\\.example/records/subscription/${orphan.subscription.id}`,
        ),
      );
      assert.match(table.stdout, new RegExp(`cancelled in Billflow but active at the provider`));
    }
  });
});
