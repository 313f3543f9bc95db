import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineWorkflow, restartRun, startWorkflow, createRegistry } from '../../src/engine/index.ts';
import type { AnyWorkflow } from '../../src/engine/index.ts';
import { PermanentError } from '../../src/errors.ts';
import { createEmailTransport, createSlackEndpoint, listNotifications } from '../../src/notify/index.ts';
import type { AlertDeps } from '../../src/notify/index.ts';
import { alertFailedRuns, settleDueSubscriptions, startMaintenance } from '../../src/billing/maintenance.ts';
import {
  cancelSubscription,
  createSubscription,
  getCustomer,
  getSubscription,
} from '../../src/billing/records/index.ts';
import { refreshCustomerStatus } from '../../src/billing/stats/index.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';
import { startReceiver } from '../notify/support/http.ts';
import { seedCustomer, seedPlan } from './helpers.ts';

let failing = true;
const flaky = defineWorkflow<unknown>({
  type: 'flaky',
  steps: [
    {
      name: 'only_step',
      kind: 'external',
      retry: { maxAttempts: 1 },
      async run() {
        if (failing) throw new PermanentError('the receiving end said no');
        return null;
      },
    },
  ],
}) as AnyWorkflow;

eachDatabase((kind) => {
  test('every failure of a run raises one alert, from the database, whichever process sweeps', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock(new Date());
    const slack = await startReceiver();
    await createSlackEndpoint(db, { name: 'ops', url: slack.url });
    const deps: AlertDeps = {
      email: createEmailTransport({ from: 'billing@acme.test' }),
      fetch: globalThis.fetch,
      clock: clock.now,
      adminUrl: 'http://billflow.test',
    };
    const worker = testWorker(db, [flaky]);
    await worker.start();
    failing = true;
    const registry = createRegistry([flaky]);
    const { runId } = await startWorkflow(db, registry, { type: 'flaky', input: {} });
    await waitForStatus(db, runId, 'failed');

    // Two sweeps at once (two worker processes): one alert.
    const raised = await Promise.all([alertFailedRuns(db, deps), alertFailedRuns(db, deps)]);
    assert.equal(raised[0] + raised[1], 1);
    assert.equal(await alertFailedRuns(db, deps), 0);
    const alerts = await listNotifications(db, { kind: 'alert' });
    assert.equal(alerts.items.length, 1);
    assert.equal(alerts.items[0]?.run_id, runId);
    assert.equal(slack.received.length, 1);
    assert.match(slack.received[0]?.body ?? '', /only_step/);
    const firstAlertAt = alerts.items[0]?.created_at ?? assert.fail('no alert');

    // Restarted and failed again: a new failure, a new alert.
    await restartRun(db, { runId, actor: 'user:ops', reason: 'try again' });
    await waitForStatus(db, runId, 'failed', (updated) => updated > firstAlertAt);
    assert.equal(await alertFailedRuns(db, deps), 1);
    assert.equal((await listNotifications(db, { kind: 'alert' })).items.length, 2);

    // A run that completes raises nothing.
    failing = false;
    const ok = await startWorkflow(db, registry, { type: 'flaky', input: {} });
    await waitForStatus(db, ok.runId, 'completed');
    assert.equal(await alertFailedRuns(db, deps), 0);
    await slack.stop();
  });

  test('a daily check that finds something is sent to Slack once, by the process that ran it', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock(new Date('2026-03-02T08:00:00Z'));
    const slack = await startReceiver();
    await createSlackEndpoint(db, { name: 'ops', url: slack.url });
    const deps: AlertDeps = {
      email: createEmailTransport({ from: 'billing@acme.test' }),
      fetch: globalThis.fetch,
      clock: clock.now,
      adminUrl: 'http://billflow.test',
    };
    // A subscription with no run: the check's first finding.
    const customer = await seedCustomer(db);
    const plan = await seedPlan(db);
    await createSubscription(db, { customer_id: customer.id, plan_code: plan.code }, { at: clock.now() });
    const warnings: unknown[] = [];
    const pass = async () => {
      const maintenance = startMaintenance(db, {
        alerts: deps,
        intervalMs: 3_600_000,
        logger: { warn: (obj) => warnings.push(obj) },
      });
      await maintenance.runOnce();
      await maintenance.stop();
    };
    await Promise.all([pass(), pass()]);
    await pass();
    assert.deepEqual(warnings, []);
    const posted = slack.received.filter((r) => /Reconciliation: \d+ finding/.test(r.body));
    assert.equal(posted.length, 1);
    assert.match(posted[0]?.body ?? '', /Every billing record has its run: 1/);
    await slack.stop();
  });

  test('the maintenance loop settles due cancellations and refreshes the customer', async () => {
    const { db } = await freshDatabase(kind);
    const customer = await seedCustomer(db);
    const plan = await seedPlan(db);
    const start = new Date('2026-03-01T00:00:00Z');
    const subscription = await createSubscription(
      db,
      { customer_id: customer.id, plan_code: plan.code },
      { at: start },
    );
    await refreshCustomerStatus(db, customer.id, start);
    await cancelSubscription(db, subscription.id, { mode: 'at_period_end' }, { at: start });
    assert.equal((await getSubscription(db, subscription.id)).status, 'cancel_scheduled');

    assert.equal(await settleDueSubscriptions(db, new Date('2026-03-15T00:00:00Z')), 0);
    const clock = testClock(new Date('2026-04-02T00:00:00Z'));
    const maintenance = startMaintenance(db, {
      alerts: { email: createEmailTransport({ from: 'b@acme.test' }), fetch: globalThis.fetch, clock: clock.now },
      intervalMs: 60_000,
      logger: { warn: (obj) => assert.fail(`maintenance warned: ${JSON.stringify(obj)}`) },
    });
    await maintenance.runOnce();
    await maintenance.stop();
    assert.equal((await getSubscription(db, subscription.id)).status, 'cancelled');
    assert.equal((await getCustomer(db, customer.id)).status, 'churned');
  });
});

async function waitForStatus(
  db: Awaited<ReturnType<typeof freshDatabase>>['db'],
  runId: string,
  status: string,
  updatedAfter: (updated: Date) => boolean = () => true,
) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await db.query<{ status: string; updated_at: Date }>(
      'SELECT status, updated_at FROM workflow_runs WHERE id = $1',
      [runId],
    );
    if (rows[0]?.status === status && updatedAfter(rows[0].updated_at)) return;
    if (Date.now() > deadline) throw new Error(`run ${runId} is ${rows[0]?.status}, expected ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
