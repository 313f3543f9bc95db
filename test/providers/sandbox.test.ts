import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatabaseKind, Db } from '../../src/db/types.ts';
import { PermanentError, RetryableError } from '../../src/errors.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import type { ChargeInput, PaymentProvider } from '../../src/providers/index.ts';
import { connectPostgres } from '../../src/db/postgres.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import type { TestDatabase } from '../helpers/databases.ts';

// One migrated database per kind for the file (migrating is the slow part); each test works with
// a customer and idempotency keys of its own, so tests do not see each other's charges.
const databases = new Map<DatabaseKind, Promise<TestDatabase>>();
let tests = 0;

async function setup(kind: DatabaseKind) {
  if (!databases.has(kind)) databases.set(kind, freshDatabase(kind));
  const { db, url } = (await databases.get(kind)) as TestDatabase;
  // As after a restart: on PostgreSQL new connections; PGlite lives in this process either way.
  const reconnect = (): Db => {
    if (!url) return db;
    const fresh = connectPostgres({ connectionString: url, maxConnections: 2 });
    after(() => fresh.close());
    return fresh;
  };
  const clock = testClock();
  const provider = createSandboxProvider({ db, now: clock.now, timeoutDelayMs: 40 });
  const t = `t${++tests}`;
  const customer = await provider.ensureCustomer({
    idempotencyKey: `${t}:sync`,
    customerId: `cus_${t}`,
    email: 'ada@example.com',
  });
  const key = (name: string) => `${t}:${name}`;
  const charge = (paymentMethod: string, name = `charge:${paymentMethod}`, amount = 4900): ChargeInput => ({
    idempotencyKey: key(name),
    amount,
    currency: 'eur',
    customer: customer.provider_reference,
    paymentMethod,
    metadata: { payment_id: 'pay_1' },
  });
  const chargeRows = async (): Promise<number> => {
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM provider_sandbox_charges WHERE customer = $1',
      [customer.provider_reference],
    );
    return rows[0]?.n ?? -1;
  };
  return { db, clock, provider, customer, charge, key, chargeRows, reconnect };
}

eachDatabase((kind) => {
  test('each test payment method has its outcome', async () => {
    const { provider, charge } = await setup(kind);
    const ok = await provider.charge(charge('pm_card_ok'));
    assert.equal(ok.status, 'succeeded');
    assert.match(ok.provider_reference ?? '', /^sbx_ch_/);
    assert.deepEqual(
      { amount: ok.amount, currency: ok.currency, failure_code: ok.failure_code, decline: ok.decline },
      { amount: 4900, currency: 'EUR', failure_code: null, decline: null },
    );
    const declines = [
      ['pm_card_insufficient_funds', 'insufficient_funds', 'soft'],
      ['pm_card_processing_error', 'processing_error', 'soft'],
      ['pm_card_stolen', 'stolen_card', 'hard'],
      ['pm_card_fraudulent', 'fraudulent', 'hard'],
      ['pm_card_lost', 'lost_card', 'hard'],
    ];
    for (const [method, code, decline] of declines) {
      const result = await provider.charge(charge(method as string));
      assert.deepEqual([result.status, result.failure_code, result.decline], ['failed', code, decline], method);
      assert.ok(result.provider_reference, 'a declined charge is recorded too');
      assert.ok(result.failure_message);
    }
  });

  test('a network error or a timeout is retryable and charges nothing', async () => {
    const { provider, charge, chargeRows } = await setup(kind);
    await assert.rejects(provider.charge(charge('pm_network_error')), RetryableError);
    const started = performance.now();
    await assert.rejects(
      provider.charge(charge('pm_timeout')),
      (e: unknown) => e instanceof RetryableError && /40 ms/.test(e.message),
    );
    assert.ok(performance.now() - started >= 35, 'the timeout hangs for its bounded delay first');
    assert.equal(await chargeRows(), 0);
    assert.equal(await provider.findCharge({ idempotencyKey: charge('pm_timeout').idempotencyKey }), null);
  });

  test('the same idempotency key never charges twice, even at once', async () => {
    const { provider, charge, chargeRows } = await setup(kind);
    const first = await provider.charge(charge('pm_card_ok', 'run_2:charge'));
    const again = await provider.charge(charge('pm_card_ok', 'run_2:charge'));
    assert.deepEqual(again, first);
    const racing = await Promise.all(
      Array.from({ length: 5 }, () => provider.charge(charge('pm_card_ok', 'run_3:charge'))),
    );
    assert.equal(new Set(racing.map((r) => r.provider_reference)).size, 1);
    const declined = await provider.charge(charge('pm_card_insufficient_funds', 'run_4:charge'));
    assert.deepEqual(await provider.charge(charge('pm_card_insufficient_funds', 'run_4:charge')), declined);
    assert.equal(await chargeRows(), 3);
  });

  test('a key reused for a different charge is refused', async () => {
    const { provider, charge } = await setup(kind);
    await provider.charge(charge('pm_card_ok', 'run_5:charge'));
    await assert.rejects(provider.charge(charge('pm_card_ok', 'run_5:charge', 5000)), PermanentError);
    await assert.rejects(provider.charge(charge('pm_card_stolen', 'run_5:charge')), PermanentError);
  });

  test('a lost answer: the charge was made, the retry returns it', async () => {
    const { provider, charge, chargeRows } = await setup(kind);
    const input = charge('pm_lost_response', 'run_6:charge');
    await assert.rejects(provider.charge(input), RetryableError);
    const found = await provider.findCharge({ idempotencyKey: input.idempotencyKey });
    assert.equal(found?.status, 'succeeded');
    assert.deepEqual(await provider.charge(input), found);
    assert.equal(await chargeRows(), 1);
  });

  test('bad requests are permanent errors', async () => {
    const { provider, charge } = await setup(kind);
    await assert.rejects(provider.charge(charge('pm_card_unknown')), /no such payment method: pm_card_unknown/);
    await assert.rejects(provider.charge({ ...charge('pm_card_ok'), customer: 'sbx_cus_nope' }), /no such customer/);
    for (const bad of [0, -5, 1.5, 100_000_000]) {
      await assert.rejects(provider.charge(charge('pm_card_ok', `k${bad}`, bad)), PermanentError);
    }
    await assert.rejects(provider.charge({ ...charge('pm_card_ok'), currency: 'euro' }), PermanentError);
    await assert.rejects(provider.charge({ ...charge('pm_card_ok'), idempotencyKey: '' }), PermanentError);
    await assert.rejects(provider.charge({ ...charge('pm_card_ok'), metadata: { billflow_key: 'x' } }), /reserved/);
    await assert.rejects(
      provider.ensureCustomer({ idempotencyKey: 'k', customerId: 'cus_x', email: '' }),
      PermanentError,
    );
  });

  test('refunds: partial, full, replayed, never more than was charged', async () => {
    const { provider, charge, key } = await setup(kind);
    const paid = await provider.charge(charge('pm_card_ok', 'run_7:charge', 1000));
    const ref = paid.provider_reference as string;
    const part = await provider.refund({ idempotencyKey: key('run_8:refund'), chargeReference: ref, amount: 300 });
    assert.deepEqual([part.status, part.amount, part.currency, part.charge_reference], ['succeeded', 300, 'EUR', ref]);
    assert.deepEqual(
      await provider.refund({ idempotencyKey: key('run_8:refund'), chargeReference: ref, amount: 300 }),
      part,
    );
    await assert.rejects(
      provider.refund({ idempotencyKey: key('run_8:refund'), chargeReference: ref, amount: 200 }),
      /different refund/,
    );
    await assert.rejects(
      provider.refund({ idempotencyKey: key('run_9:refund'), chargeReference: ref, amount: 701 }),
      /exceeds/,
    );
    // Two refunds at once that together exceed the charge: one passes, the other is refused.
    const racing = await Promise.allSettled([
      provider.refund({ idempotencyKey: key('run_10:refund'), chargeReference: ref, amount: 400 }),
      provider.refund({ idempotencyKey: key('run_11:refund'), chargeReference: ref, amount: 400 }),
    ]);
    assert.deepEqual(racing.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const rest = await provider.refund({ idempotencyKey: key('run_12:refund'), chargeReference: ref });
    assert.equal(rest.amount, 300, 'no amount: whatever is left');
    await assert.rejects(
      provider.refund({ idempotencyKey: key('run_13:refund'), chargeReference: ref }),
      /already been refunded/,
    );
    assert.deepEqual(await provider.findRefund({ idempotencyKey: key('run_12:refund'), chargeReference: ref }), rest);
    assert.equal(
      await provider.findRefund({ idempotencyKey: key('run_12:refund'), chargeReference: 'sbx_ch_other' }),
      null,
    );
    const declined = await provider.charge(charge('pm_card_stolen', 'run_14:charge'));
    await assert.rejects(
      provider.refund({ idempotencyKey: key('run_14:refund'), chargeReference: declined.provider_reference as string }),
      /nothing to refund/,
    );
  });

  test('customers are found by our id, not created twice', async () => {
    const { provider, customer, key } = await setup(kind);
    const again = await provider.ensureCustomer({
      idempotencyKey: key('sync'),
      customerId: customer.customer_id,
      email: 'ada@example.com',
    });
    assert.deepEqual(again, customer);
    const other = await provider.ensureCustomer({
      idempotencyKey: key('sync'),
      customerId: `${customer.customer_id}_2`,
      email: 'bob@example.com',
    });
    assert.notEqual(other.provider_reference, customer.provider_reference);
  });

  test('subscriptions: created once, cancelled now, at period end or on a date', async () => {
    const { provider, customer, clock } = await setup(kind);
    const plan = { code: 'pro', name: 'Pro', amount: 4900, currency: 'EUR', interval: 'month' as const };
    const create = (subscriptionId: string) =>
      provider.createSubscription({
        idempotencyKey: `run_${subscriptionId}:sync`,
        subscriptionId,
        customer: customer.provider_reference,
        plan,
      });
    const sub = await create('sub_1');
    assert.equal(sub.status, 'active');
    assert.equal(sub.subscription_id, 'sub_1');
    assert.equal(sub.current_period_end, '2026-02-05T10:00:00.000Z');
    assert.deepEqual(await create('sub_1'), sub);
    const query = { subscriptionId: 'sub_1', customer: customer.provider_reference };
    assert.deepEqual(await provider.findSubscription(query), sub, 'found by our id');
    assert.equal(await provider.findSubscription({ ...query, subscriptionId: 'sub_never' }), null);

    const atEnd = await provider.cancelSubscription({
      idempotencyKey: 'k1',
      providerReference: sub.provider_reference,
      when: 'period_end',
    });
    assert.deepEqual(
      [atEnd.status, atEnd.cancel_at_period_end, atEnd.cancel_at],
      ['active', true, sub.current_period_end],
    );
    clock.advance(32 * 86_400_000);
    const ended = await provider.cancelSubscription({
      idempotencyKey: 'k1',
      providerReference: sub.provider_reference,
      when: 'period_end',
    });
    assert.deepEqual([ended.status, ended.canceled_at], ['canceled', sub.current_period_end]);

    const now = await create('sub_2');
    const cancelled = await provider.cancelSubscription({
      idempotencyKey: 'k2',
      providerReference: now.provider_reference,
      when: 'now',
    });
    assert.deepEqual([cancelled.status, cancelled.canceled_at], ['canceled', clock.now().toISOString()]);
    clock.advance(1000);
    assert.deepEqual(
      await provider.cancelSubscription({
        idempotencyKey: 'k2',
        providerReference: now.provider_reference,
        when: 'now',
      }),
      cancelled,
      'a repeated cancellation changes nothing',
    );

    const dated = await create('sub_3');
    const on = new Date(clock.now().getTime() + 86_400_000);
    const scheduled = await provider.cancelSubscription({
      idempotencyKey: 'k3',
      providerReference: dated.provider_reference,
      when: on,
    });
    assert.deepEqual([scheduled.status, scheduled.cancel_at], ['active', on.toISOString()]);
    const late = await create('sub_4');
    const past = await provider.cancelSubscription({
      idempotencyKey: 'k4',
      providerReference: late.provider_reference,
      when: new Date(clock.now().getTime() - 1000),
    });
    assert.equal(past.status, 'canceled', 'a date already past means now');

    await assert.rejects(
      provider.createSubscription({ idempotencyKey: 'k5', subscriptionId: 'sub_5', customer: 'sbx_cus_nope', plan }),
      /no such customer/,
    );
    await assert.rejects(
      provider.cancelSubscription({ idempotencyKey: 'k6', providerReference: 'sbx_sub_nope', when: 'now' }),
      PermanentError,
    );
  });

  test('after a restart a new provider on the same database finds what was charged and refunded', async () => {
    const { provider, charge, key, chargeRows, reconnect } = await setup(kind);
    const paid = await provider.charge(charge('pm_card_ok', 'run_20:charge'));
    const refund = await provider.refund({
      idempotencyKey: key('run_21:refund'),
      chargeReference: paid.provider_reference as string,
    });
    const restarted: PaymentProvider = createSandboxProvider({ db: reconnect() });
    assert.deepEqual(await restarted.findCharge({ idempotencyKey: key('run_20:charge') }), paid);
    assert.deepEqual(await restarted.charge(charge('pm_card_ok', 'run_20:charge')), paid);
    assert.deepEqual(
      await restarted.findRefund({
        idempotencyKey: key('run_21:refund'),
        chargeReference: paid.provider_reference as string,
      }),
      refund,
    );
    assert.equal(await chargeRows(), 1);
  });
});
