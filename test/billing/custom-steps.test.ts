import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { FastifyInstance } from 'fastify';
import { createCustomStep, deleteCustomStep, startPayment } from '../../src/billing/workflows/index.ts';
import { getRun } from '../../src/engine/index.ts';
import type { RunDetail } from '../../src/engine/index.ts';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { buildServer } from '../../src/http/server.ts';
import { parseAllowHosts } from '../../src/notify/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { seedCustomer } from './helpers.ts';
import { MINUTES, assertCompleted, rows, step } from './workflow-support.ts';

// Custom webhook steps in payment_success, end to end: inserted through the API, pinned by new
// runs only, called with a signed request by a real receiver, failing and restarted.

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real receiver: answers the queued replies in order (200 `{}` once empty; status 0 = never answers). */
async function startReceiver() {
  const state = { url: '', received: [] as Received[], replies: [] as { status: number; body?: unknown }[] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const reply = state.replies.shift() ?? { status: 200, body: {} };
      if (reply.status === 0) return;
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { state, stop };
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
before(async () => {
  receiver = await startReceiver();
});
after(() => receiver.stop());

const guard = parseAllowHosts('127.0.0.1');
const received = (path: string) => receiver.state.received.filter((r) => r.path === path);

/** The receiver serves both databases' tests: each test asks for paths of its own. */
function freshReceiver(kind: string) {
  receiver.state.replies.length = 0;
  return (path: string) => `/${kind}${path}`;
}

interface Api {
  app: FastifyInstance;
  developer: Record<string, string>;
  accountManager: Record<string, string>;
}

async function api(h: BillingHarness): Promise<Api> {
  const { registry, provider, notify } = h;
  const app = buildServer({
    db: h.db,
    clock: h.clock.now,
    billing: { registry, provider, notify },
    webhookGuard: guard,
  });
  await app.ready();
  after(() => app.close());
  const key = async (role: 'developer' | 'account_manager') => {
    const made = await createApiKey(h.db, { name: role, role, expiresAt: null, createdBy: null, now: h.clock.now() });
    return { authorization: `Bearer ${made.key}` };
  };
  return { app, developer: await key('developer'), accountManager: await key('account_manager') };
}

async function pay(h: BillingHarness, customerId: string, ref: string) {
  const started = await startPayment(
    h.db,
    h.registry,
    { customer_id: customerId, amount: 2500, currency: 'EUR', status: 'succeeded', provider_reference: ref },
    { now: h.clock.now() },
  );
  return started;
}

const names = (run: RunDetail) => run.steps.map((s) => s.name);
const PREDEFINED = [
  'record_payment',
  'generate_receipt',
  'update_stats',
  'send_customer_email',
  'send_internal_notice',
];

eachDatabase((kind) => {
  // The clock starts at the real time: receivers check a signature's timestamp against theirs.
  const harness = billingHarness(kind, { startWorker: false, clockStart: new Date(), webhookGuard: guard });

  test('a step inserted into payment_success runs in new runs only, signed, with the documented payload', async () => {
    const h = await harness;
    const { app, developer } = await api(h);
    const at = freshReceiver(kind);
    const customer = await seedCustomer(h.db, { name: 'Ada' });
    const earlier = await pay(h, customer.id, `ext_${kind}_before`);

    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/workflow-types/payment_success/custom-steps',
      headers: developer,
      payload: {
        name: 'crm_sync',
        url: `${receiver.state.url}${at('/crm')}`,
        method: 'PUT',
        after: 'generate_receipt',
        timeout_ms: 2000,
        reason: 'keep the CRM in step',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const { step: made, secret } = created.json() as { step: { pinned_name: string }; secret: string };
    assert.equal(made.pinned_name, 'custom:crm_sync:1');
    assert.match(secret, /^whsec_/);
    const stored = await rows<{ version: number; method: string; after_step: string; secret: string }>(
      h.db,
      `SELECT version, method, after_step, secret FROM custom_step_versions WHERE workflow_type = 'payment_success'`,
    );
    assert.deepEqual(stored, [{ version: 1, method: 'PUT', after_step: 'generate_receipt', secret }]);
    const audit = await rows<{ target: string; reason: string }>(
      h.db,
      `SELECT target, reason FROM audit_log WHERE action = 'custom_step.create'`,
    );
    assert.deepEqual(audit, [{ target: 'payment_success:crm_sync', reason: 'keep the CRM in step' }]);

    const later = await pay(h, customer.id, `ext_${kind}_after`);
    receiver.state.replies.push({ status: 200, body: { crm_id: 'crm_42', synced: true } });
    await h.worker.drain();

    const a = await getRun(h.db, earlier.runId);
    assertCompleted(a);
    assert.deepEqual(names(a), PREDEFINED);
    const b = await getRun(h.db, later.runId);
    assertCompleted(b);
    assert.deepEqual(names(b), [...PREDEFINED.slice(0, 2), 'custom:crm_sync:1', ...PREDEFINED.slice(2)]);
    assert.deepEqual(step(b, 'custom:crm_sync:1').output, { crm_id: 'crm_42', synced: true });

    const calls = received(at('/crm'));
    assert.equal(calls.length, 1, 'the run started before the step was inserted does not call it');
    const call = calls[0] as Received;
    assert.equal(call.method, 'PUT');
    // Verified with the standardwebhooks package, not with our own code.
    const payload = new Webhook(secret).verify(call.body, call.headers as Record<string, string>) as {
      type: string;
      data: Record<string, unknown>;
    };
    assert.equal(payload.type, 'workflow.custom_step');
    const data = payload.data;
    assert.equal(data.run_id, later.runId);
    assert.equal(data.workflow_type, 'payment_success');
    assert.equal(data.step, 'crm_sync');
    assert.equal(data.step_version, 1);
    assert.equal(data.attempt, 1);
    assert.equal(data.idempotency_key, `${later.runId}:custom:crm_sync:1`);
    assert.equal(data.subject_id, later.record.id);
    assert.equal((data.record as { id: string; amount: number }).id, later.record.id);
    assert.equal((data.record as { amount: number }).amount, 2500);
    assert.equal((data.input as { customer_id: string }).customer_id, customer.id);
    const outputs = data.outputs as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(outputs).sort(), ['generate_receipt', 'record_payment']);
    assert.equal(outputs.record_payment?.payment_id, later.record.id);

    // The run as the API shows it carries the answer as the step's output.
    const shown = await app.inject({ method: 'GET', url: `/api/v1/workflows/${later.runId}`, headers: developer });
    const detail = shown.json() as { steps: { name: string; status: string; output: unknown }[] };
    const custom = detail.steps.find((s) => s.name === 'custom:crm_sync:1');
    assert.deepEqual(custom?.output, { crm_id: 'crm_42', synced: true });
    assert.equal(custom?.status, 'completed');
    const removed = await app.inject({
      method: 'DELETE',
      url: '/api/v1/workflow-types/payment_success/custom-steps/crm_sync',
      headers: developer,
      payload: { reason: 'done with this test' },
    });
    assert.equal(removed.statusCode, 200, removed.body);
  });

  test('a 4xx fails the run at the step at once; Restart completes it; a pinned step survives disable and delete', async () => {
    const h = await harness;
    const { app, developer, accountManager } = await api(h);
    const customer = await seedCustomer(h.db, { name: 'Grace' });
    const path = freshReceiver(kind)('/provision');
    const base = '/api/v1/workflow-types/payment_success/custom-steps';
    const made = await app.inject({
      method: 'POST',
      url: base,
      headers: developer,
      payload: { name: 'provision', url: `${receiver.state.url}${path}`, after: 'record_payment', reason: 'provision' },
    });
    assert.equal(made.statusCode, 201, made.body);
    const pinnedBefore = await pay(h, customer.id, `ext_${kind}_p1`);
    const disabled = await app.inject({
      method: 'PATCH',
      url: `${base}/provision`,
      headers: developer,
      payload: { enabled: false, reason: 'receiver under repair' },
    });
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal((disabled.json() as { version: number }).version, 2);
    const afterDisable = await pay(h, customer.id, `ext_${kind}_p2`);
    const deleted = await app.inject({
      method: 'DELETE',
      url: `${base}/provision`,
      headers: developer,
      payload: { reason: 'not needed any more' },
    });
    assert.equal(deleted.statusCode, 200, deleted.body);

    receiver.state.replies.push({ status: 422, body: { error: 'unknown plan' } });
    await h.worker.drain();

    const failed = await getRun(h.db, pinnedBefore.runId);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failed_step, 'custom:provision:1');
    assert.equal(step(failed, 'custom:provision:1').attempts.length, 1, 'a 4xx is not retried');
    assert.match((failed.error as { message: string }).message, /HTTP 422.*unknown plan/);
    assert.ok(!names(await getRun(h.db, afterDisable.runId)).some((n) => n.startsWith('custom:provision')));
    assertCompleted(await getRun(h.db, afterDisable.runId));

    // The receiver is fixed; Restart through the API runs the pinned (now deleted) step again.
    receiver.state.replies.push({ status: 200, body: { account: 'acc_7' } });
    const restarted = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${pinnedBefore.runId}/restart`,
      headers: accountManager,
      payload: { reason: 'receiver fixed' },
    });
    assert.equal(restarted.statusCode, 200, restarted.body);
    await h.worker.drain();
    const done = await getRun(h.db, pinnedBefore.runId);
    assertCompleted(done);
    assert.deepEqual(step(done, 'custom:provision:1').output, { account: 'acc_7' });
    const calls = received(path);
    assert.equal(calls.length, 2);
    assert.equal(calls[0]?.headers['webhook-id'], calls[1]?.headers['webhook-id'], 'one message id per step and run');
    const versions = await rows<{ version: number; enabled: boolean; deleted: boolean; reason: string }>(
      h.db,
      `SELECT version, enabled, deleted, reason FROM custom_step_versions WHERE name = 'provision' ORDER BY version`,
    );
    assert.deepEqual(versions, [
      { version: 1, enabled: true, deleted: false, reason: 'provision' },
      { version: 2, enabled: false, deleted: false, reason: 'receiver under repair' },
      { version: 3, enabled: false, deleted: true, reason: 'not needed any more' },
    ]);
  });

  test('a 5xx and a timeout are retried on the engine schedule; a refused URL fails with the reason', async () => {
    const h = await harness;
    const at = freshReceiver(kind);
    const customer = await seedCustomer(h.db, { name: 'Linus' });
    const change = { type: 'payment_success', predefined: PREDEFINED, guard, actor: 'user:test', now: h.clock.now() };
    await createCustomStep(h.db, change, {
      name: 'flaky',
      url: `${receiver.state.url}${at('/flaky')}`,
      after: 'update_stats',
      timeout_ms: 300,
      retry: { max_attempts: 3, initial_delay_ms: 1000 },
      reason: 'test retries',
    });
    const started = await pay(h, customer.id, `ext_${kind}_f1`);
    receiver.state.replies.push({ status: 503 }, { status: 0 }, { status: 200, body: { ok: 1 } });
    await h.worker.drain();
    let run = await getRun(h.db, started.runId);
    assert.equal(run.status, 'in_progress');
    assert.equal(run.activity, 'retrying');
    for (let i = 0; i < 2; i++) {
      h.clock.advance(10 * MINUTES);
      await h.worker.drain();
    }
    run = await getRun(h.db, started.runId);
    assertCompleted(run);
    const flaky = step(run, 'custom:flaky:1');
    assert.deepEqual(
      (flaky.attempts as { outcome: string }[]).map((a) => a.outcome),
      ['retrying', 'retrying', 'completed'],
    );
    assert.match(JSON.stringify(flaky.attempts), /HTTP 503/);
    assert.match(JSON.stringify(flaky.attempts), /no answer within 300 ms/);
    assert.deepEqual(flaky.output, { ok: 1 });
    await deleteCustomStep(h.db, change, 'flaky', { reason: 'done' });

    // Saved while its address was allowed, refused where the worker sends from: fails at once, with why.
    await createCustomStep(
      h.db,
      { ...change, guard: parseAllowHosts('10.0.0.1') },
      { name: 'internal', url: 'https://10.0.0.1/hook', after: 'update_stats', reason: 'test refusal' },
    );
    const refused = await pay(h, customer.id, `ext_${kind}_f2`);
    await h.worker.drain();
    run = await getRun(h.db, refused.runId);
    assert.equal(run.status, 'failed');
    assert.equal(run.failed_step, 'custom:internal:1');
    assert.equal(step(run, 'custom:internal:1').attempts.length, 1);
    assert.match((run.error as { message: string }).message, /private, loopback or link-local/);
    await deleteCustomStep(h.db, change, 'internal', { reason: 'done' });
  });
});
