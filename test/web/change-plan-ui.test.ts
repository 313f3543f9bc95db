// "Change plan" on a customer's subscription, in Chromium against a real Billflow: customer_support
// picks one of the plans it may move to (same currency and interval), now or at period end, and
// sees the run it started; the database holds the change and the subscription's plan.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { browserSession, describeInChromium, eventually, signIn } from './harness.ts';

const SUPPORT = { email: 'support@example.com', password: 'correct horse battery staple' };

describeInChromium('Change plan in Chromium', () => {
  const ui = browserSession({ users: [{ ...SUPPORT, role: 'customer_support' }], apiKey: true });
  const plans: Record<string, string> = {};
  let customerId: string;
  let subscriptionId: string;

  before(async () => {
    for (const [code, name, amount, interval] of [
      ['pro', 'Pro', 2900, 'month'],
      ['team', 'Team', 4900, 'month'],
      ['basic', 'Basic', 900, 'month'],
      ['pro-yearly', 'Pro yearly', 29000, 'year'],
    ] as const) {
      const r = await ui.call<{ plan: { id: string } }>('POST', '/plans', {
        code,
        name,
        amount,
        currency: 'EUR',
        interval,
      });
      assert.equal(r.status, 201);
      plans[code] = r.body.plan.id;
    }
    const customer = await ui.call<{ customer: { id: string } }>('POST', '/customers', {
      email: 'erin@example.com',
      name: 'Erin',
    });
    assert.equal(customer.status, 201);
    customerId = customer.body.customer.id;
    const sub = await ui.call<{ subscription: { id: string } }>('POST', '/subscriptions', {
      customer_id: customerId,
      plan_code: 'pro',
    });
    assert.equal(sub.status, 201);
    subscriptionId = sub.body.subscription.id;
  });

  const result = () => ui.page.getByRole('status', { name: 'Result' });

  const one = async <T>(sql: string, params: unknown[]): Promise<T> => {
    const { rows } = await ui.db.query(sql, params);
    assert.equal(rows.length, 1, sql);
    return rows[0] as T;
  };

  it('customer_support upgrades now, then schedules a downgrade at period end; each shows its run', async () => {
    await signIn(ui.page, SUPPORT);
    await ui.page.goto(`/customers/${customerId}`);
    await ui.page.getByRole('heading', { name: /Erin/ }).waitFor();

    await ui.page.getByRole('button', { name: `Change plan of ${subscriptionId}` }).click();
    let dialog = ui.page.getByRole('dialog', { name: 'Change plan' });
    const planSelect = dialog.getByLabel('New plan');
    await planSelect.locator('option').first().waitFor({ state: 'attached' });
    // Only the other monthly EUR plans, cheapest first: not the current one, not the yearly one.
    assert.deepEqual(await planSelect.locator('option').allInnerTexts(), [
      'Basic — €9.00 / month',
      'Team — €49.00 / month',
    ]);
    await planSelect.selectOption({ label: 'Team — €49.00 / month' });
    await dialog.getByLabel('When').selectOption('now');
    await dialog.getByLabel('Reason (optional)').fill('needs more seats');
    await dialog.getByRole('button', { name: 'Change plan' }).click();
    await result().getByText(`Plan change of ${subscriptionId} to Team requested (now).`).waitFor();
    const runId = (await result().locator('.mono').innerText()).trim();
    assert.match(runId, /^run_/);
    await result().getByText('Completed', { exact: true }).waitFor();

    // What was stored: the run, the change, and the subscription on the new plan at its price.
    const run = await one<{ type: string; status: string }>('SELECT type, status FROM workflow_runs WHERE id = $1', [
      runId,
    ]);
    assert.deepEqual(run, { type: 'subscription_plan_change', status: 'completed' });
    const change = await one<{ to_plan_id: string; timing: string; reason: string; applied: boolean }>(
      `SELECT to_plan_id, timing, reason, applied_at IS NOT NULL AS applied FROM subscription_plan_changes
       WHERE subscription_id = $1`,
      [subscriptionId],
    );
    assert.deepEqual(change, { to_plan_id: plans.team, timing: 'now', reason: 'needs more seats', applied: true });
    const sub = await one<{ plan_id: string; amount: string }>(
      'SELECT plan_id, amount::text FROM subscriptions WHERE id = $1',
      [subscriptionId],
    );
    assert.deepEqual(sub, { plan_id: plans.team, amount: '4900' });
    const audit = await one<{ target: string }>(
      "SELECT target FROM audit_log WHERE action = 'subscription.change_plan'",
      [],
    );
    assert.equal(audit.target, subscriptionId);

    // A downgrade at the end of the period: recorded now, the plan unchanged until the renewal.
    await eventually(
      async () => (await ui.page.getByRole('cell', { name: '€49.00 / month' }).count()) > 0,
      'the subscription row shows the new price',
    );
    await ui.page.getByRole('button', { name: `Change plan of ${subscriptionId}` }).click();
    dialog = ui.page.getByRole('dialog', { name: 'Change plan' });
    await dialog.getByLabel('New plan').locator('option').first().waitFor({ state: 'attached' });
    await dialog.getByLabel('New plan').selectOption({ label: 'Basic — €9.00 / month' });
    await dialog.getByLabel('When').selectOption('period_end');
    await dialog.getByRole('button', { name: 'Change plan' }).click();
    await result().getByText(`Plan change of ${subscriptionId} to Basic requested (at period end).`).waitFor();
    const secondRun = (await result().locator('.mono').innerText()).trim();
    assert.notEqual(secondRun, runId);
    await result().getByText('Completed', { exact: true }).waitFor();
    const scheduled = await one<{ timing: string; applied: boolean; run_type: string }>(
      `SELECT c.timing, c.applied_at IS NOT NULL AS applied,
         (SELECT type FROM workflow_runs WHERE id = $2) AS run_type
       FROM subscription_plan_changes c WHERE c.subscription_id = $1 AND c.to_plan_id = $3`,
      [subscriptionId, secondRun, plans.basic],
    );
    assert.deepEqual(scheduled, { timing: 'period_end', applied: false, run_type: 'subscription_plan_change' });
    assert.equal(
      (await one<{ plan_id: string }>('SELECT plan_id FROM subscriptions WHERE id = $1', [subscriptionId])).plan_id,
      plans.team,
    );
    await ui.b.shot('change-plan');
    assert.deepEqual(ui.b.errors, [], 'console errors in the browser');
  });
});
