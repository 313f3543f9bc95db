import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createSubscription, recordPayment } from '../../src/billing/records/index.ts';
import { compareStats, countPayment } from '../../src/billing/stats/index.ts';
import { getRun } from '../../src/engine/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { seedProviderPayment } from '../billing/workflow-support.ts';
import { apiHarness, json } from './resource-harness.ts';
import type { ApiHarness } from './resource-harness.ts';

type Body = Record<string, unknown>;
const fieldOf = (res: { json(): unknown }) => (res.json() as { errors?: { field: string }[] }).errors?.[0]?.field;

eachDatabase((kind) => {
  describe('billing record routes', () => {
    let h: ApiHarness;
    const setup = apiHarness(kind);
    before(async () => {
      h = await setup;
    });

    let customerId = '';
    let subscriptionId = '';

    it('creates plans and customers, finds customers by email, pages them without gaps', async () => {
      const plan = await h.call('customer_support', 'POST', '/plans', {
        code: 'pro-monthly',
        name: 'Pro',
        amount: 4900,
        currency: 'eur',
        interval: 'month',
      });
      assert.equal(plan.statusCode, 201, plan.body);
      assert.equal(json<{ plan: Body }>(plan).plan.currency, 'EUR');
      const dup = await h.call('customer_support', 'POST', '/plans', {
        code: 'pro-monthly',
        name: 'Pro again',
        amount: 100,
        currency: 'EUR',
        interval: 'month',
      });
      assert.equal(dup.statusCode, 409);
      assert.equal(fieldOf(dup), 'code');
      assert.equal((await h.call('viewer', 'POST', '/plans', { code: 'x' })).statusCode, 403);
      const badCurrency = await h.call('customer_support', 'POST', '/plans', {
        code: 'odd',
        name: 'Odd',
        amount: 1,
        currency: 'XYZ',
        interval: 'month',
      });
      assert.equal(badCurrency.statusCode, 400);
      assert.equal(fieldOf(badCurrency), 'currency');
      const plans = json<{ items: { code: string }[] }>(await h.call('viewer', 'GET', '/plans'));
      assert.deepEqual(
        plans.items.map((p) => p.code),
        ['pro-monthly'],
      );

      const badEmail = await h.call('customer_support', 'POST', '/customers', { email: 'nobody' });
      assert.equal(badEmail.statusCode, 400);
      assert.equal(fieldOf(badEmail), 'email');
      const created: string[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await h.call('customer_support', 'POST', '/customers', {
          email: `buyer${i}@example.com`,
          name: `Buyer ${i}`,
        });
        assert.equal(res.statusCode, 201, res.body);
        created.push(json<{ customer: { id: string } }>(res).customer.id);
      }
      customerId = created[0] as string;
      const found = json<{ items: { id: string }[] }>(
        await h.call('viewer', 'GET', '/customers?email=BUYER3@example.com'),
      );
      assert.deepEqual(
        found.items.map((c) => c.id),
        [created[3]],
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await h.call('viewer', 'GET', `/customers?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        const page = json<{ items: { id: string }[]; next_cursor: string | null }>(res);
        seen.push(...page.items.map((c) => c.id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, [...created].reverse());
    });

    it('starts a subscription: 201 with its run, visible under /workflows?customer_id=, idempotent per key', async () => {
      const missingPlan = await h.call('customer_support', 'POST', '/subscriptions', {
        customer_id: customerId,
        plan_code: 'nope',
      });
      assert.equal(missingPlan.statusCode, 400);
      assert.equal(fieldOf(missingPlan), 'plan_code');
      const missingCustomer = await h.call('customer_support', 'POST', '/subscriptions', {
        customer_id: 'cus_0000000000000000000000000000',
        plan_code: 'pro-monthly',
      });
      assert.equal(fieldOf(missingCustomer), 'customer_id');

      const body = { customer_id: customerId, plan_code: 'pro-monthly', payment_method: 'pm_card_ok' };
      const headers = { 'idempotency-key': 'sub-1' };
      const res = await h.call('customer_support', 'POST', '/subscriptions', body, headers);
      assert.equal(res.statusCode, 201, res.body);
      const started = json<{ subscription: { id: string; status: string }; workflow_run_id: string }>(res);
      assert.equal(started.subscription.status, 'active');
      subscriptionId = started.subscription.id;
      const again = await h.call('customer_support', 'POST', '/subscriptions', body, headers);
      assert.equal(again.statusCode, 201);
      assert.deepEqual(json(again), json(res));
      const other = await h.call('customer_support', 'POST', '/subscriptions', { ...body, trial_days: 3 }, headers);
      assert.equal(other.statusCode, 409);
      const subs = await h.db.query('SELECT id FROM subscriptions WHERE customer_id = $1', [customerId]);
      assert.equal(subs.rows.length, 1, 'one subscription for one key');

      assert.equal((await h.settle(started.workflow_run_id)).status, 'completed');
      const runs = json<{ items: { id: string; type: string }[] }>(
        await h.call('account_manager', 'GET', `/workflows?customer_id=${customerId}`),
      );
      assert.deepEqual(
        runs.items.map((r) => [r.id, r.type]),
        [[started.workflow_run_id, 'subscription_creation']],
      );
      const customer = json<{ customer: Body; subscriptions: { id: string }[]; runs: { id: string }[] }>(
        await h.call('viewer', 'GET', `/customers/${customerId}`),
      );
      assert.equal(customer.customer.id, customerId);
      assert.deepEqual(
        customer.subscriptions.map((s) => s.id),
        [subscriptionId],
      );
      assert.deepEqual(
        customer.runs.map((r) => r.id),
        [started.workflow_run_id],
      );
      const sub = json<Body>(await h.call('viewer', 'GET', `/subscriptions/${subscriptionId}`));
      assert.equal(sub.id, subscriptionId);
      assert.match(String(sub.provider_subscription_id), /./);
      const detail = json<{ links: Record<string, string> }>(
        await h.call('account_manager', 'GET', `/workflows/${started.workflow_run_id}`),
      );
      assert.deepEqual(detail.links, {
        subscription: `/api/v1/subscriptions/${subscriptionId}`,
        customer: `/api/v1/customers/${customerId}`,
      });
    });

    it('triggers a workflow by hand for an existing record; wrong kind 400, unknown 404', async () => {
      const wrongKind = await h.call('account_manager', 'POST', '/workflows', {
        type: 'refund_creation',
        subject_id: subscriptionId,
        reason: 'resend',
      });
      assert.equal(wrongKind.statusCode, 400);
      assert.equal(fieldOf(wrongKind), 'subject_id');
      const unknown = await h.call('account_manager', 'POST', '/workflows', {
        type: 'subscription_creation',
        subject_id: 'sub_0000000000000000000000000000',
        reason: 'resend',
      });
      assert.equal(unknown.statusCode, 404);
      assert.equal((await h.call('customer_support', 'POST', '/workflows', {})).statusCode, 403);

      // The subscription is known at the provider now: the record step finds it, the run links it.
      const res = await h.call('account_manager', 'POST', '/workflows', {
        type: 'subscription_creation',
        subject_id: subscriptionId,
        reason: 'customer never got the welcome email',
      });
      assert.equal(res.statusCode, 201, res.body);
      const runId = json<{ workflow_run_id: string }>(res).workflow_run_id;
      const run = await h.settle(runId);
      assert.equal(run.status, 'completed');
      assert.equal(run.subject_ref, subscriptionId);
      assert.equal(run.owner_ref, customerId);
      const subs = await h.db.query('SELECT id FROM subscriptions WHERE customer_id = $1', [customerId]);
      assert.equal(subs.rows.length, 1, 'no second subscription');
      const audit = await h.db.query<{ actor: string; action: string; reason: string }>(
        `SELECT actor, action, reason FROM audit_log WHERE target = $1`,
        [runId],
      );
      assert.deepEqual(audit.rows, [
        {
          actor: `api_key:${h.keys.account_manager.id}`,
          action: 'workflow.trigger',
          reason: 'customer never got the welcome email',
        },
      ]);
    });

    it('a trigger for a record known only here reuses it: one run, no second record, its steps done', async () => {
      // No provider id yet: the record step finds the record by its id; the provider step creates it there.
      const local = await createSubscription(h.db, { customer_id: customerId, plan_code: 'pro-monthly' });
      const res = await h.call('account_manager', 'POST', '/workflows', {
        type: 'subscription_creation',
        subject_id: local.id,
        reason: 'created by a data import, never synced',
      });
      assert.equal(res.statusCode, 201, res.body);
      const run = await h.settle(json<{ workflow_run_id: string }>(res).workflow_run_id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(run.subject_ref, local.id);
      const { rows } = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM subscriptions WHERE id = $1', [
        local.id,
      ]);
      assert.equal(rows[0]?.n, 1);
      const synced = await h.db.query<{ provider_subscription_id: string | null }>(
        'SELECT provider_subscription_id FROM subscriptions WHERE id = $1',
        [local.id],
      );
      assert.ok(synced.rows[0]?.provider_subscription_id, 'synced to the provider by the run');
    });

    it('cancels a subscription: fields named, 202 with its run, 409 with the current status once cancelled', async () => {
      const noDate = await h.call('customer_support', 'POST', `/subscriptions/${subscriptionId}/cancel`, {
        when: 'on_date',
        refund: 'none',
      });
      assert.equal(noDate.statusCode, 400);
      assert.equal(fieldOf(noDate), 'date');
      const badWhen = await h.call('customer_support', 'POST', `/subscriptions/${subscriptionId}/cancel`, {
        when: 'tomorrow',
        refund: 'none',
      });
      assert.equal(fieldOf(badWhen), 'when');
      const missing = await h.call(
        'customer_support',
        'POST',
        '/subscriptions/sub_0000000000000000000000000000/cancel',
        {
          when: 'instantly',
          refund: 'none',
        },
      );
      assert.equal(missing.statusCode, 404);

      const res = await h.call('customer_support', 'POST', `/subscriptions/${subscriptionId}/cancel`, {
        when: 'instantly',
        refund: 'none',
        reason: 'asked by phone',
      });
      assert.equal(res.statusCode, 202, res.body);
      const runId = json<{ workflow_run_id: string }>(res).workflow_run_id;
      assert.equal((await h.settle(runId)).status, 'completed');
      const run = await getRun(h.db, runId);
      assert.equal((run.input as Body).mode, 'immediately');
      assert.equal(json<Body>(await h.call('viewer', 'GET', `/subscriptions/${subscriptionId}`)).status, 'cancelled');

      const again = await h.call('customer_support', 'POST', `/subscriptions/${subscriptionId}/cancel`, {
        when: 'instantly',
        refund: 'none',
      });
      assert.equal(again.statusCode, 409, again.body);
      assert.equal(json(again).status, 409);
      assert.equal(json(again).current_status, 'cancelled');
      const audit = await h.db.query<{ action: string; target: string; reason: string }>(
        `SELECT action, target, reason FROM audit_log WHERE action = 'subscription.cancel'`,
      );
      assert.deepEqual(audit.rows, [
        { action: 'subscription.cancel', target: subscriptionId, reason: 'asked by phone' },
      ]);
    });

    it('refunds and disputes a payment: 201 with the record and its run; too much is refused', async () => {
      const customer = (
        await h.db.query<{ id: string; email: string; name: string }>('SELECT * FROM customers WHERE id = $1', [
          customerId,
        ])
      ).rows[0];
      assert.ok(customer);
      const payment = await seedProviderPayment(h, customer as never, { amount: 5000, currency: 'EUR' });
      const got = json<Body>(await h.call('viewer', 'GET', `/payments/${payment.id}`));
      assert.equal(got.amount, 5000);

      const tooMuch = await h.call('customer_support', 'POST', '/refunds', { payment_id: payment.id, amount: 9000 });
      assert.equal(tooMuch.statusCode, 400, tooMuch.body);
      assert.equal(fieldOf(tooMuch), 'amount');
      const unknownPayment = await h.call('customer_support', 'POST', '/refunds', {
        payment_id: 'pay_0000000000000000000000000000',
      });
      assert.equal(fieldOf(unknownPayment), 'payment_id');

      const refund = await h.call('customer_support', 'POST', '/refunds', {
        payment_id: payment.id,
        amount: 1500,
        reason: 'goodwill',
      });
      assert.equal(refund.statusCode, 201, refund.body);
      const r = json<{ refund: { id: string; amount: number }; workflow_run_id: string }>(refund);
      assert.equal(r.refund.amount, 1500);
      assert.equal((await h.settle(r.workflow_run_id)).status, 'completed');
      assert.equal(json<Body>(await h.call('viewer', 'GET', `/refunds/${r.refund.id}`)).status, 'succeeded');

      const dispute = await h.call('customer_support', 'POST', '/chargebacks', {
        payment_id: payment.id,
        reason: 'fraudulent',
      });
      assert.equal(dispute.statusCode, 201, dispute.body);
      const c = json<{ chargeback: { id: string; amount: number }; workflow_run_id: string }>(dispute);
      assert.equal(c.chargeback.amount, 5000);
      assert.equal((await h.settle(c.workflow_run_id)).status, 'completed');
      assert.equal(json<Body>(await h.call('viewer', 'GET', `/chargebacks/${c.chargeback.id}`)).id, c.chargeback.id);
      assert.equal((await h.call('viewer', 'GET', '/invoices/inv_0000000000000000000000000000')).statusCode, 404);
      assert.equal((await h.call('viewer', 'POST', '/refunds', { payment_id: payment.id })).statusCode, 403);
    });

    it('serves stats to viewers; a bad metric or range names the field', async () => {
      const summary = await h.call('viewer', 'GET', '/stats/summary');
      assert.equal(summary.statusCode, 200, summary.body);
      const eur = json<{ currencies: { currency: string; revenue: number; refunds: number }[] }>(
        summary,
      ).currencies.find((c) => c.currency === 'EUR');
      assert.equal(eur?.revenue, 5000);
      assert.equal(eur?.refunds, 1500);
      const day = h.clock.now().toISOString().slice(0, 10);
      const series = await h.call(
        'viewer',
        'GET',
        `/stats/timeseries?metric=revenue&from=${day}&to=${day}&currency=eur`,
      );
      assert.equal(series.statusCode, 200, series.body);
      assert.deepEqual(json(series).series, [{ currency: 'EUR', points: [{ day, value: 5000 }] }]);
      const bad = await h.call('viewer', 'GET', `/stats/timeseries?metric=profit&from=${day}&to=${day}`);
      assert.equal(fieldOf(bad), 'metric');
      const noDay = await h.call('viewer', 'GET', `/stats/timeseries?metric=revenue&from=2026-02-30&to=${day}`);
      assert.equal(fieldOf(noDay), 'from');
      const backwards = await h.call('viewer', 'GET', '/stats/timeseries?metric=revenue&from=2026-02-02&to=2026-02-01');
      assert.equal(fieldOf(backwards), 'to');
      const currency = await h.call(
        'viewer',
        'GET',
        `/stats/timeseries?metric=revenue&from=${day}&to=${day}&currency=ZZZ`,
      );
      assert.equal(fieldOf(currency), 'currency');
    });

    it("refunds that cannot be made: 400 up front without a provider reference; a failed run's refund is failed, cancelled with its run, never counted", async () => {
      const recorded = await h.call('customer_support', 'POST', '/payments', {
        customer_id: customerId,
        amount: 3000,
        currency: 'EUR',
        status: 'succeeded',
      });
      assert.equal(recorded.statusCode, 201, recorded.body);
      const paid = json<{ payment: { id: string }; workflow_run_id: string }>(recorded);
      assert.equal((await h.settle(paid.workflow_run_id)).status, 'completed');
      const refused = await h.call('customer_support', 'POST', '/refunds', {
        payment_id: paid.payment.id,
        amount: 1000,
      });
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal(fieldOf(refused), 'payment_id');
      assert.match(refused.body, /without a payment provider reference/);
      assert.equal(json<Body>(await h.call('viewer', 'GET', `/payments/${paid.payment.id}`)).refunded_amount, 0);
      assert.equal((await h.db.query(`SELECT 1 FROM refunds WHERE payment_id = $1`, [paid.payment.id])).rowCount, 0);

      // A charge the provider does not know: the run fails for good, the refund with it.
      const stray = await recordPayment(h.db, {
        customer_id: customerId,
        amount: 2000,
        currency: 'EUR',
        status: 'succeeded',
        provider_reference: `sbx_ch_unknown_${kind}`,
      });
      await countPayment(h.db, stray.id);
      const started = await h.call('customer_support', 'POST', '/refunds', { payment_id: stray.id });
      assert.equal(started.statusCode, 201, started.body);
      const r = json<{ refund: { id: string }; workflow_run_id: string }>(started);
      const run = await h.settle(r.workflow_run_id);
      assert.deepEqual([run.status, run.failed_step], ['failed', 'execute_provider_refund']);
      assert.equal(json<Body>(await h.call('viewer', 'GET', `/refunds/${r.refund.id}`)).status, 'failed');
      assert.equal(json<Body>(await h.call('viewer', 'GET', `/payments/${stray.id}`)).refunded_amount, 0);
      const cancelled = await h.call('account_manager', 'POST', `/workflows/${r.workflow_run_id}/cancel`, {
        reason: 'unknown charge',
      });
      assert.equal(cancelled.statusCode, 200, cancelled.body);
      assert.equal(json<Body>(await h.call('viewer', 'GET', `/refunds/${r.refund.id}`)).status, 'cancelled');
      assert.equal(json<Body>(await h.call('viewer', 'GET', `/payments/${stray.id}`)).refunded_amount, 0);
      assert.deepEqual((await compareStats(h.db)).differences, []);
    });

    it('invoices: create, read, mark paid (run ends), charge through the provider; payments recorded', async () => {
      const bad = await h.call('customer_support', 'POST', '/invoices', {
        customer_id: customerId,
        currency: 'EUR',
        lines: [{ description: 'Setup', amount: -5 }],
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(fieldOf(bad), 'lines[0].amount');
      const created = await h.call('customer_support', 'POST', '/invoices', {
        customer_id: customerId,
        currency: 'EUR',
        lines: [{ description: 'Setup', amount: 2500, quantity: 2 }],
      });
      assert.equal(created.statusCode, 201, created.body);
      const inv = json<{ invoice: { id: string; total: number; status: string }; workflow_run_id: string }>(created);
      assert.equal(inv.invoice.total, 5000);
      const read = json<{ lines: { amount: number; unit_amount: number }[] }>(
        await h.call('viewer', 'GET', `/invoices/${inv.invoice.id}`),
      );
      assert.deepEqual(
        read.lines.map((l) => [l.unit_amount, l.amount]),
        [[2500, 5000]],
      );

      const paid = await h.call('customer_support', 'POST', `/invoices/${inv.invoice.id}/mark-paid`, {
        note: 'wire 42',
      });
      assert.equal(paid.statusCode, 200, paid.body);
      assert.equal(json(paid).status, 'paid');
      const run = await h.settle(inv.workflow_run_id);
      assert.equal(run.status, 'completed');
      const again = await h.call('customer_support', 'POST', `/invoices/${inv.invoice.id}/mark-paid`, {});
      assert.equal(again.statusCode, 409);
      assert.equal(json(again).current_status, 'paid');
      const marked = await h.db.query<{ actor: string; reason: string }>(
        `SELECT actor, reason FROM audit_log WHERE action = 'invoice.mark_paid' AND target = $1`,
        [inv.invoice.id],
      );
      assert.deepEqual(marked.rows, [{ actor: `api_key:${h.keys.customer_support.id}`, reason: 'wire 42' }]);

      const second = json<{ invoice: { id: string }; workflow_run_id: string }>(
        await h.call('customer_support', 'POST', '/invoices', {
          customer_id: customerId,
          currency: 'EUR',
          lines: [{ description: 'Consulting', amount: 1200 }],
        }),
      );
      const url = `/invoices/${second.invoice.id}/charge`;
      const unknownMethod = await h.call('customer_support', 'POST', url, { payment_method: 'pm_nope' });
      assert.equal(unknownMethod.statusCode, 400, unknownMethod.body);
      assert.equal(fieldOf(unknownMethod), 'payment_method');
      const charged = await h.call(
        'customer_support',
        'POST',
        url,
        { payment_method: 'pm_card_ok' },
        { 'idempotency-key': 'c1' },
      );
      assert.equal(charged.statusCode, 201, charged.body);
      const payment = json<{ payment: { id: string; status: string; amount: number }; workflow_run_id: string }>(
        charged,
      );
      assert.equal(payment.payment.status, 'succeeded');
      assert.equal(payment.payment.amount, 1200);
      assert.equal((await h.settle(payment.workflow_run_id)).status, 'completed');
      assert.equal(json(await h.call('viewer', 'GET', `/invoices/${second.invoice.id}`)).status, 'paid');

      // With the customer's card on file, a charge needs no payment method.
      const noMethod = await h.call('customer_support', 'POST', '/invoices', {
        customer_id: customerId,
        currency: 'EUR',
        lines: [{ description: 'Support', amount: 300 }],
      });
      const third = json<{ invoice: { id: string } }>(noMethod).invoice.id;
      const badMethod = await h.call('customer_support', 'PUT', `/customers/${customerId}/payment-method`, {
        payment_method: 'pm card; drop',
      });
      assert.equal(badMethod.statusCode, 400);
      assert.equal(fieldOf(badMethod), 'payment_method');
      const unknownCustomer = await h.call(
        'customer_support',
        'PUT',
        '/customers/cus_0000000000000000000000000000/payment-method',
        {
          payment_method: 'pm_card_ok',
        },
      );
      assert.equal(unknownCustomer.statusCode, 404);
      const onFile = await h.call('customer_support', 'PUT', `/customers/${customerId}/payment-method`, {
        payment_method: 'pm_card_ok',
      });
      assert.equal(onFile.statusCode, 200, onFile.body);
      assert.equal(json<{ customer: { payment_method: string } }>(onFile).customer.payment_method, 'pm_card_ok');
      const chargedOnFile = await h.call('customer_support', 'POST', `/invoices/${third}/charge`, {});
      assert.equal(chargedOnFile.statusCode, 201, chargedOnFile.body);
      assert.equal(json<{ payment: { status: string } }>(chargedOnFile).payment.status, 'succeeded');

      const chargeAgain = await h.call(
        'customer_support',
        'POST',
        url,
        { payment_method: 'pm_card_ok' },
        { 'idempotency-key': 'c2' },
      );
      assert.equal(chargeAgain.statusCode, 409);
      assert.equal(json(chargeAgain).current_status, 'paid');

      const noCode = await h.call('customer_support', 'POST', '/payments', {
        customer_id: customerId,
        amount: 700,
        currency: 'EUR',
        status: 'failed',
      });
      assert.equal(noCode.statusCode, 400);
      assert.equal(fieldOf(noCode), 'failure_code');
      const recorded = await h.call('customer_support', 'POST', '/payments', {
        customer_id: customerId,
        amount: 700,
        currency: 'EUR',
        status: 'succeeded',
        provider_reference: 'ext_1',
      });
      assert.equal(recorded.statusCode, 201, recorded.body);
      const p = json<{ payment: { id: string }; workflow_run_id: string }>(recorded);
      const paymentRun = await h.settle(p.workflow_run_id);
      assert.equal(paymentRun.type, 'payment_success');
      assert.equal(paymentRun.status, 'completed');
      assert.equal(json(await h.call('viewer', 'GET', `/payments/${p.payment.id}`)).amount, 700);

      // A payment known by its provider reference: a manual payment_success run finds it again.
      const wrongStatus = await h.call('account_manager', 'POST', '/workflows', {
        type: 'payment_failure',
        subject_id: p.payment.id,
        reason: 'x',
      });
      assert.equal(fieldOf(wrongStatus), 'subject_id');
      const retrigger = await h.call('account_manager', 'POST', '/workflows', {
        type: 'payment_success',
        subject_id: p.payment.id,
        reason: 'receipt lost',
      });
      assert.equal(retrigger.statusCode, 201, retrigger.body);
      const again2 = await h.settle(json<{ workflow_run_id: string }>(retrigger).workflow_run_id);
      assert.equal(again2.status, 'completed');
      assert.equal(
        (await h.db.query('SELECT 1 FROM payments WHERE provider_reference = $1', ['ext_1'])).rows.length,
        1,
      );
    });
  });
});
