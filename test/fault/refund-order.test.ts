// Refunds requested while their payment's run is still going, run by two `billflow worker`
// processes on one PostgreSQL, one of them killed with -9 mid-way and started again: each
// refund is made at the provider exactly once, a payment is never refunded beyond its amount,
// and the statistics equal a recount.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareStats } from '../../src/billing/stats/index.ts';
import { startPayment, startRefund } from '../../src/billing/workflows/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { InvalidInputError } from '../../src/errors.ts';
import { TEST_DATABASES, freshDatabase } from '../helpers/databases.ts';
import { seedCustomer } from '../billing/helpers.ts';
import { until } from './harness.ts';
import { killAndReplace, runStatuses, startingRegistry, twoWorkers } from './billflow-workers.ts';

const PAYMENTS = 60;
const AMOUNT = 1000;

test(
  'two refunds during each of 60 payments across 2 worker processes, one killed -9: each made once, never beyond the amount',
  {
    timeout: 300_000,
    skip: TEST_DATABASES.includes('postgres') || process.env.CI === 'true' ? false : 'needs PostgreSQL',
  },
  async () => {
    assert.ok(TEST_DATABASES.includes('postgres'), 'CI runs the fault tests on PostgreSQL');
    const { db, url } = await freshDatabase('postgres');
    assert.ok(url);
    const provider = createSandboxProvider({ db });
    const registry = startingRegistry(db, provider);
    const workers = await twoWorkers(url);
    try {
      const charged = [];
      for (let i = 0; i < PAYMENTS; i++) {
        const customer = await seedCustomer(db);
        const payer = await provider.ensureCustomer({
          idempotencyKey: `fault:${customer.id}`,
          customerId: customer.id,
          email: customer.email,
        });
        const charge = await provider.charge({
          idempotencyKey: `fault:${customer.id}:charge`,
          amount: AMOUNT,
          currency: 'EUR',
          customer: payer.provider_reference,
          paymentMethod: 'pm_card_ok',
          firstAttempt: true,
        });
        assert.equal(charge.status, 'succeeded');
        charged.push({ customer, charge: charge.provider_reference as string });
      }
      let killed = false;
      let refused = 0;
      for (let i = 0; i < charged.length; i += 10) {
        await Promise.all(
          charged.slice(i, i + 10).map(async ({ customer, charge }) => {
            const payment = await startPayment(db, registry, {
              customer_id: customer.id,
              amount: AMOUNT,
              currency: 'EUR',
              status: 'succeeded',
              provider_reference: charge,
            });
            // While the payment's run goes on: half now, half at once after, and a cent too many.
            const halves = [AMOUNT / 2, AMOUNT / 2].map((amount) =>
              startRefund(db, registry, { payment_id: payment.record.id, amount }),
            );
            await Promise.all(halves);
            await startRefund(db, registry, { payment_id: payment.record.id, amount: 1 }).then(
              () => assert.fail('a refund beyond the payment was accepted'),
              (error: unknown) => {
                assert.ok(error instanceof InvalidInputError, String(error));
                refused++;
              },
            );
          }),
        );
        if (!killed && i >= PAYMENTS / 2) {
          await killAndReplace(url, workers);
          killed = true;
        }
      }
      assert.equal(refused, PAYMENTS);
      await until(
        'every run finished',
        async () => {
          const counts = await runStatuses(db);
          return (counts.pending ?? 0) + (counts.in_progress ?? 0) === 0 ? counts : undefined;
        },
        { timeoutMs: 240_000, intervalMs: 250, describe: async () => JSON.stringify(await runStatuses(db)) },
      );
      assert.deepEqual(await runStatuses(db), { completed: PAYMENTS * 3 }, 'every run completed');

      // Billflow and the provider agree on every payment: two refunds of half, made once each.
      const { rows } = await db.query<{
        id: string;
        refunded: number;
        ours: number;
        succeeded: number;
        at_provider: number;
        provider_total: number;
      }>(
        `SELECT p.id, p.refunded_amount::int AS refunded,
           (SELECT count(*)::int FROM refunds r WHERE r.payment_id = p.id) AS ours,
           (SELECT count(*)::int FROM refunds r WHERE r.payment_id = p.id AND r.status = 'succeeded') AS succeeded,
           (SELECT count(*)::int FROM provider_sandbox_refunds s WHERE s.charge = p.provider_reference) AS at_provider,
           (SELECT coalesce(sum(amount), 0)::int FROM provider_sandbox_refunds s
             WHERE s.charge = p.provider_reference) AS provider_total
         FROM payments p`,
      );
      assert.equal(rows.length, PAYMENTS);
      for (const r of rows) {
        assert.deepEqual(
          [r.refunded, r.ours, r.succeeded, r.at_provider, r.provider_total],
          [AMOUNT, 2, 2, 2, AMOUNT],
          `payment ${r.id}`,
        );
      }
      const stats = await compareStats(db);
      assert.deepEqual(stats.differences, []);
      assert.equal(stats.uncounted.refund, 0);
    } catch (error) {
      for (const w of workers) console.error(w.tail());
      throw error;
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  },
);
