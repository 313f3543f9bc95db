import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCustomer, createPlan, getSubscription } from '../../src/billing/records/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { apiHarness, json } from './resource-harness.ts';
import type { ApiHarness } from './resource-harness.ts';

// POST /subscriptions/{id}/change-plan through the API: every refusal names its field and
// changes nothing; a change answers with its record and run, once per Idempotency-Key.

type Body = Record<string, unknown>;
const fieldOf = (res: { json(): unknown }) => (res.json() as { errors?: { field: string }[] }).errors?.[0]?.field;

async function stored(h: ApiHarness) {
  const { rows } = await h.db.query<{ changes: number; runs: number; audits: number }>(
    `SELECT (SELECT count(*) FROM subscription_plan_changes)::int AS changes,
       (SELECT count(*) FROM workflow_runs WHERE type = 'subscription_plan_change')::int AS runs,
       (SELECT count(*) FROM audit_log WHERE action = 'subscription.change_plan')::int AS audits`,
  );
  return rows[0];
}

eachDatabase((kind) => {
  test('change-plan: refusals name their field and change nothing; a change is made once per key', async () => {
    const h = await apiHarness(kind);
    const plan = (code: string, amount: number, currency = 'EUR', interval: 'month' | 'year' = 'month') =>
      createPlan(h.db, { code, name: code, amount, currency, interval });
    const basic = await plan('basic', 1000);
    await plan('pro', 3000);
    await plan('pro-usd', 3000, 'USD');
    await plan('pro-yearly', 30000, 'EUR', 'year');
    const customer = await createCustomer(h.db, { email: 'plan-change@example.com' });
    const created = await h.call('customer_support', 'POST', '/subscriptions', {
      customer_id: customer.id,
      plan_code: basic.code,
    });
    assert.equal(created.statusCode, 201, created.body);
    const id = json<{ subscription: { id: string } }>(created).subscription.id;
    await h.settle(json<{ workflow_run_id: string }>(created).workflow_run_id);
    const url = `/subscriptions/${id}/change-plan`;

    const before = await stored(h);
    const subscriptionBefore = await getSubscription(h.db, id);
    const refusals: [Body, number, string | undefined][] = [
      [{ plan_code: 'nope', when: 'now' }, 400, 'plan_code'],
      [{ plan_code: 'basic', when: 'now' }, 400, 'plan_code'],
      [{ plan_code: 'pro-usd', when: 'now' }, 400, 'plan_code'],
      [{ plan_code: 'pro-yearly', when: 'period_end' }, 400, 'plan_code'],
      [{ plan_code: 'pro', when: 'later' }, 400, 'when'],
      [{ plan_code: 'pro' }, 400, 'when'],
      [{ plan_code: 'pro', when: 'now', extra: 1 }, 400, 'extra'],
    ];
    for (const [body, status, field] of refusals) {
      const res = await h.call('customer_support', 'POST', url, body);
      assert.equal(res.statusCode, status, `${JSON.stringify(body)} → ${res.body}`);
      assert.equal(fieldOf(res), field, `${JSON.stringify(body)} → ${res.body}`);
    }
    const missing = await h.call(
      'customer_support',
      'POST',
      '/subscriptions/sub_0000000000000000000000000000/change-plan',
      {
        plan_code: 'pro',
        when: 'now',
      },
    );
    assert.equal(missing.statusCode, 404, missing.body);
    assert.equal((await h.call('viewer', 'POST', url, { plan_code: 'pro', when: 'now' })).statusCode, 403);
    assert.deepEqual(await stored(h), before);
    assert.deepEqual(await getSubscription(h.db, id), subscriptionBefore);

    const key = { 'idempotency-key': 'change-plan-1' };
    const first = await h.call(
      'customer_support',
      'POST',
      url,
      { plan_code: 'pro', when: 'now', reason: 'upsell' },
      key,
    );
    assert.equal(first.statusCode, 202, first.body);
    const answer = json<{ plan_change: Body; workflow_run_id: string }>(first);
    assert.equal(answer.plan_change.timing, 'now');
    assert.equal(answer.plan_change.subscription_id, id);
    const again = await h.call(
      'customer_support',
      'POST',
      url,
      { plan_code: 'pro', when: 'now', reason: 'upsell' },
      key,
    );
    assert.equal(again.statusCode, 202, again.body);
    assert.equal(json<{ workflow_run_id: string }>(again).workflow_run_id, answer.workflow_run_id);
    assert.equal((await h.settle(answer.workflow_run_id)).status, 'completed');
    assert.deepEqual(await stored(h), { changes: 1, runs: 1, audits: 1 });
    assert.equal(json<Body>(await h.call('viewer', 'GET', `/subscriptions/${id}`)).amount, 3000);

    // Cancelled: a 409 naming the subscription (the path's id).
    const cancel = await h.call('customer_support', 'POST', `/subscriptions/${id}/cancel`, {
      when: 'instantly',
      refund: 'none',
    });
    assert.equal(cancel.statusCode, 202, cancel.body);
    await h.settle(json<{ workflow_run_id: string }>(cancel).workflow_run_id);
    const late = await h.call('customer_support', 'POST', url, { plan_code: 'basic', when: 'now' });
    assert.equal(late.statusCode, 409, late.body);
    assert.equal(fieldOf(late), 'id');
    assert.deepEqual(await stored(h), { changes: 1, runs: 1, audits: 1 });
  });
});
