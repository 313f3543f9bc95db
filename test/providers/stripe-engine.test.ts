import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, defineWorkflow, getRun, restartRun, startWorkflow } from '../../src/engine/index.ts';
import { createStripeProvider } from '../../src/providers/stripe.ts';
import type { ChargeResult } from '../../src/providers/index.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';

// The caller path: a workflow step charging through the Stripe provider, run by the real engine,
// so a provider error becomes the engine's retry or failure.
const standIn = await startStripeStandIn();
const provider = createStripeProvider({ secretKey: standIn.secretKey, apiBase: standIn.url });

interface Input {
  customer: string;
  paymentMethod: string;
}

const flow = defineWorkflow<Input>({
  type: 'charge_once',
  steps: [
    {
      name: 'charge',
      kind: 'external',
      retry: { maxAttempts: 2, initialDelayMs: 1000, jitter: 0 },
      // No `firstAttempt`: an operator restart counts attempts from 1 again, so always look up.
      run: (ctx) =>
        provider.charge({
          idempotencyKey: ctx.idempotencyKey,
          amount: 1200,
          currency: 'eur',
          customer: ctx.input.customer,
          paymentMethod: ctx.input.paymentMethod,
        }),
    },
  ],
});

eachDatabase((kind) => {
  // One database per kind for the file: each test has a run (and a key) of its own.
  let database: ReturnType<typeof freshDatabase> | undefined;

  async function start(paymentMethod: string) {
    standIn.clearFaults();
    database ??= freshDatabase(kind);
    const { db } = await database;
    const clock = testClock();
    const customer = await provider.ensureCustomer({
      idempotencyKey: `setup:${kind}:${paymentMethod}`,
      customerId: `cus_${kind}_${paymentMethod}`,
      email: `${kind}.${paymentMethod}@example.com`,
    });
    const { runId } = await startWorkflow(db, createRegistry([flow]), {
      type: 'charge_once',
      input: { customer: customer.provider_reference, paymentMethod },
      now: clock.now(),
    });
    const worker = testWorker(db, [flow], { clock: clock.now });
    const key = `${runId}:charge`;
    const posts = () => standIn.requests.filter((r) => r.method === 'POST' && r.idempotencyKey === key);
    const intents = () => [...standIn.payments.intents.values()].filter((pi) => pi.metadata.billflow_key === key);
    return { db, clock, worker, runId, posts, intents };
  }

  test('a provider 500 is retried by the engine with the same key: one charge', async () => {
    const { db, clock, worker, runId, posts, intents } = await start('pm_card_visa');
    standIn.failNext(1, { kind: 'status', status: 500 }, { method: 'POST', path: '/v1/payment_intents' });
    await worker.drain();
    let run = await getRun(db, runId);
    assert.deepEqual([run.status, run.activity], ['in_progress', 'retrying']);
    clock.advance(1000);
    await worker.drain();
    run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.equal((run.steps[0]?.output as ChargeResult).status, 'succeeded');
    assert.deepEqual(
      posts().map((r) => r.status),
      [500, 200],
    );
    assert.equal(intents().length, 1);
  });

  test('a provider 4xx fails the run at once', async () => {
    const { db, worker, runId, posts } = await start('pm_card_unknown');
    await worker.drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'failed');
    assert.equal(run.steps[0]?.attempts.length, 1);
    assert.equal((run.error as { name: string }).name, 'PermanentError');
    assert.equal(posts().length, 1);
  });

  test('a decline is a completed step whose output says failed', async () => {
    const { db, worker, runId } = await start('pm_card_chargeDeclinedStolenCard');
    await worker.drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    const output = run.steps[0]?.output as ChargeResult;
    assert.deepEqual([output.status, output.failure_code, output.decline], ['failed', 'stolen_card', 'hard']);
  });

  test('answers lost until the run fails; days later an operator restart finds the charge', async () => {
    const { db, clock, worker, runId, posts, intents } = await start('pm_card_mastercard');
    // Attempt 1: the charge is made but its answer (and the SDK's retry's) is lost. Attempt 2:
    // Stripe is down for the look-up. The run fails with one PaymentIntent made.
    standIn.failNext(2, { kind: 'drop', when: 'after' }, { method: 'POST', path: '/v1/payment_intents' });
    standIn.failNext(1, { kind: 'status', status: 503 }, { method: 'GET', path: '/v1/payment_intents' });
    await worker.drain();
    clock.advance(1000);
    await worker.drain();
    assert.equal((await getRun(db, runId)).status, 'failed');
    assert.equal(intents().length, 1);
    standIn.forgetIdempotencyKeys();
    clock.advance(3 * 86_400_000);
    await restartRun(db, { runId, actor: 'user:ops', reason: 'Stripe reachable again', now: clock.now() });
    await worker.drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.equal((run.steps[0]?.output as ChargeResult).provider_reference, intents()[0]?.id);
    assert.equal(intents().length, 1, 'one PaymentIntent in all');
    assert.equal(posts().length, 2, 'the restart looked it up and posted nothing');
  });
});
