import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { PermanentError, RetryableError } from '../../src/errors.ts';
import { createRegistry, defineWorkflow, startWorkflow, withStartHooks, getRun } from '../../src/engine/index.ts';
import { claimRuns } from '../../src/engine/sql/claimRuns.ts';
import { buildServer } from '../../src/http/server.ts';
import { createEmailTransport, postSlack, raiseFailureAlert, sendEmail } from '../../src/notify/index.ts';
import { combineHooks, createMetrics } from '../../src/observability/index.ts';
import type { Metrics } from '../../src/observability/index.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';
import { apiHarness } from '../http/support.ts';
import { startReceiver } from '../notify/support/http.ts';
import type { TestReceiver } from '../notify/support/http.ts';
import { parseMetrics, valueOf } from './support.ts';

const TOKEN = 'metrics-token-0123456789abcdef';

let slack: TestReceiver;
before(async () => {
  slack = await startReceiver();
});
after(() => slack.stop());

// Two steps: a db step, then an external one that fails for good after one retry when asked to.
const flow = defineWorkflow<{ fail: boolean }>({
  type: 'metered',
  steps: [
    { name: 'record', kind: 'db', async run() {} },
    {
      name: 'send',
      kind: 'external',
      retry: { maxAttempts: 2, initialDelayMs: 0, jitter: 0 },
      async run(ctx) {
        if (ctx.input.fail) throw new RetryableError('mail server down');
        return 'sent';
      },
    },
  ],
});

const keyed = defineWorkflow<{ customer: string }>({
  type: 'keyed',
  concurrency: { key: (input) => input.customer },
  steps: [{ name: 'only', kind: 'external', async run() {} }],
});

async function scrape(metrics: Metrics) {
  return parseMetrics((await metrics.render()).body);
}

/** Lets hooks fired after a commit (queued as microtasks) run. */
const hooksSettled = () => new Promise((resolve) => setImmediate(resolve));

eachDatabase((kind) => {
  test('GET /metrics: the named series move as runs start, complete and fail; behind the token', async () => {
    const { db } = await freshDatabase(kind);
    const metrics = createMetrics({ db, types: ['metered'], cacheMs: 0 });
    const registry = withStartHooks(createRegistry([flow]), metrics.startHooks);
    const app = buildServer({ db, routes: () => [], observability: { metrics, metricsToken: TOKEN } });
    await app.ready();
    const get = async (authorization?: string) =>
      app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });

    const before = parseMetrics((await get(`Bearer ${TOKEN}`)).body);
    assert.equal(valueOf(before, 'billflow_runs_started_total', { type: 'metered' }), undefined);
    assert.equal(valueOf(before, 'billflow_runs', { type: 'metered', status: 'failed' }), 0);
    assert.equal(valueOf(before, 'billflow_oldest_failed_run_age_seconds'), 0);

    for (const fail of [false, false, true]) await startWorkflow(db, registry, { type: 'metered', input: { fail } });
    const pending = await scrape(metrics);
    assert.equal(valueOf(pending, 'billflow_runs_started_total', { type: 'metered' }), 3);
    assert.equal(valueOf(pending, 'billflow_runs', { type: 'metered', status: 'pending' }), 3);
    assert.ok((valueOf(pending, 'billflow_claim_lag_seconds') ?? -1) >= 0);

    const worker = testWorker(db, [flow], { hooks: combineHooks(metrics.engineHooks) });
    metrics.watchWorker(worker);
    await worker.drain();
    await hooksSettled();

    const response = await get(`Bearer ${TOKEN}`);
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const after = parseMetrics(response.body);
    const series = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels);
    assert.equal(series('billflow_runs_completed_total', { type: 'metered' }), 2);
    assert.equal(series('billflow_runs_failed_total', { type: 'metered', step: 'send' }), 1);
    assert.equal(series('billflow_step_retries_total', { type: 'metered', step: 'send' }), 1);
    const attempts = (step: string) =>
      series('billflow_step_attempt_duration_seconds_count', { type: 'metered', step });
    assert.equal(attempts('record'), 3);
    assert.equal(attempts('send'), 4, 'two that passed, and the failing run tried twice');
    assert.ok((series('billflow_step_attempt_duration_seconds_sum', { type: 'metered', step: 'send' }) ?? -1) >= 0);
    assert.equal(
      series('billflow_step_attempt_duration_seconds_bucket', { type: 'metered', step: 'send', le: '+Inf' }),
      4,
    );
    assert.equal(series('billflow_runs', { type: 'metered', status: 'failed' }), 1);
    assert.equal(series('billflow_runs', { type: 'metered', status: 'pending' }), 0);
    assert.equal(series('billflow_runs', { type: 'metered', status: 'in_progress' }), 0);
    assert.equal(series('billflow_runs', { type: 'metered', status: 'completed' }), 2);
    assert.equal(series('billflow_runs', { type: 'metered', status: 'cancelled' }), 0);
    const age = series('billflow_oldest_failed_run_age_seconds') ?? -1;
    assert.ok(age >= 0 && age < 120, `oldest failure ${age}s`);
    assert.equal(series('billflow_claim_lag_seconds'), 0, 'nothing is due');
    assert.equal(series('billflow_worker_active_runs'), 0);
    assert.ok((series('process_cpu_seconds_total') ?? 0) > 0, 'process metrics');
    assert.ok((series('nodejs_heap_size_used_bytes') ?? 0) > 0);

    // The token: none or a wrong one is a 401 problem that says how to authenticate.
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', TOKEN, `Basic ${TOKEN}`]) {
      const refused = await get(authorization);
      assert.equal(refused.statusCode, 401, String(authorization));
      assert.match(String(refused.headers['content-type']), /^application\/problem\+json/);
      assert.match(String(refused.headers['www-authenticate']), /^Bearer/);
      assert.doesNotMatch(refused.body, /billflow_/);
    }
    // Requests are measured by route pattern and status, the refused ones included.
    const http = await scrape(metrics);
    const requests = (status: string) =>
      valueOf(http, 'billflow_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/metrics',
        status_code: status,
      });
    assert.equal(requests('200'), 2);
    assert.equal(requests('401'), 4);
    await app.inject({ method: 'GET', url: '/no/such/path' });
    assert.equal(
      valueOf(await scrape(metrics), 'billflow_http_request_duration_seconds_count', {
        route: 'unmatched',
        status_code: '404',
      }),
      1,
    );
    await app.close();
  });

  test('without a token /metrics is open; the OpenAPI document lists it beside /healthz', async () => {
    const { db } = await freshDatabase(kind);
    const metrics = createMetrics({ db, processMetrics: false });
    const app = buildServer({ db, routes: () => [], observability: { metrics } });
    await app.ready();
    const open = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(open.statusCode, 200);
    assert.ok(valueOf(parseMetrics(open.body), 'billflow_claim_lag_seconds') !== undefined);
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const validation = await new Validator().validate(doc);
    assert.ok(validation.valid, JSON.stringify(validation.errors));
    const operation = doc.paths['/metrics'].get;
    assert.equal(operation.operationId, 'getMetrics');
    assert.deepEqual(operation.tags, doc.paths['/healthz'].get.tags);
    assert.ok(operation.responses['200'].content['text/plain']);
    await app.close();
  });

  test('claim lag: the oldest run a worker could take, not one queued behind its key', async () => {
    const { db } = await freshDatabase(kind);
    const metrics = createMetrics({ db, cacheMs: 0, processMetrics: false });
    const registry = createRegistry([flow, keyed]);
    const lag = async () => valueOf(await scrape(metrics), 'billflow_claim_lag_seconds') ?? -1;
    const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

    // Two runs of one customer: the first is held by a live worker, the second waits its turn.
    await startWorkflow(db, registry, { type: 'keyed', input: { customer: 'c1' }, runAt: ago(300) });
    await startWorkflow(db, registry, { type: 'keyed', input: { customer: 'c1' }, runAt: ago(240) });
    const held = await claimRuns(db, { workerId: 'busy', types: ['keyed'], limit: 5, leaseMs: 60_000, now: null });
    assert.equal(held.length, 1);
    assert.equal(await lag(), 0, 'the queued run cannot be taken: no lag');

    // A keyed run of another customer, due for three minutes and free to take.
    await startWorkflow(db, registry, { type: 'keyed', input: { customer: 'c2' }, runAt: ago(180) });
    const keyedLag = await lag();
    assert.ok(keyedLag >= 180 && keyedLag < 240, `keyed lag ${keyedLag}`);

    // An unkeyed run due for two minutes does not hide the older keyed one.
    await startWorkflow(db, registry, { type: 'metered', input: { fail: false }, runAt: ago(120) });
    assert.ok((await lag()) >= 180);
    // A run due later is not lag at all.
    await startWorkflow(db, registry, { type: 'metered', input: { fail: false }, runAt: ago(-3600) });
    assert.ok((await lag()) < 240);
  });

  test('lease takeovers are counted per type', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const metrics = createMetrics({ processMetrics: false });
    const { runId } = await startWorkflow(db, createRegistry([flow]), {
      type: 'metered',
      input: { fail: false },
      now: clock.now(),
    });
    // A worker claims the run and disappears; its lease runs out.
    await claimRuns(db, { workerId: 'gone', types: ['metered'], limit: 1, leaseMs: 1_000, now: clock.now() });
    clock.advance(1_001);
    const worker = testWorker(db, [flow], { clock: clock.now, hooks: metrics.engineHooks });
    await worker.drain();
    await hooksSettled();
    assert.equal((await getRun(db, runId)).status, 'completed');
    const samples = await scrape(metrics);
    assert.equal(valueOf(samples, 'billflow_lease_takeovers_total', { type: 'metered' }), 1);
    assert.equal(valueOf(samples, 'billflow_runs_completed_total', { type: 'metered' }), 1);
  });

  test('emails, Slack messages and alerts are counted by outcome; cancellations through the API', async () => {
    const h = await apiHarness(kind);
    const metrics = createMetrics({ processMetrics: false });
    const email = createEmailTransport({ from: 'billing@example.com', onSend: metrics.onSend });
    const message = {
      sendKey: 'run_x:customer_email',
      kind: 'customer_email',
      to: 'a@example.com',
      subject: 'Hi',
      text: 'Hello',
    };
    await sendEmail(h.db, email, message);
    await sendEmail(h.db, email, message); // the same key: already sent, not sent again
    slack.respond.push(500);
    await assert.rejects(
      postSlack(
        h.db,
        { fetch, onSend: metrics.onSend },
        {
          sendKey: 'run_x:team_slack',
          kind: 'team_slack',
          endpoint: { id: 'sl_1', name: 'ops', url: `${slack.url}/${kind}` },
          text: 'hello',
        },
      ),
      RetryableError,
    );
    const alert = await raiseFailureAlert(
      h.db,
      { email, fetch, clock: () => new Date(), onAlert: metrics.onAlert },
      { runId: 'run_x', type: 'metered', step: 'send', error: new PermanentError('card declined'), dedupeKey: 'k1' },
    );
    assert.equal(alert.delivery, 'in_app_only');
    const again = await raiseFailureAlert(
      h.db,
      { email, fetch, clock: () => new Date(), onAlert: metrics.onAlert },
      { runId: 'run_x', type: 'metered', step: 'send', error: 'declined', dedupeKey: 'k1' },
    );
    assert.equal(again.delivery, 'duplicate');

    // Cancelling through the API counts the run's type.
    const app = buildServer({ db: h.db, observability: { metrics } });
    await app.ready();
    const { runId } = await startWorkflow(h.db, createRegistry([flow]), { type: 'metered', input: { fail: false } });
    const cancelled = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${runId}/cancel`,
      headers: h.apiKey('account_manager'),
      payload: { reason: 'customer asked' },
    });
    assert.equal(cancelled.statusCode, 200, cancelled.body);
    const refused = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${runId}/cancel`,
      headers: h.apiKey('account_manager'),
      payload: { reason: 'twice' },
    });
    assert.equal(refused.statusCode, 409);

    const samples = await scrape(metrics);
    const sends = (channel: string, outcome: string) =>
      valueOf(samples, 'billflow_message_sends_total', { channel, outcome });
    assert.equal(sends('email', 'sent'), 1);
    assert.equal(sends('email', 'already_sent'), 1);
    assert.equal(sends('slack', 'failed'), 1);
    assert.equal(valueOf(samples, 'billflow_alerts_raised_total', { type: 'metered', delivery: 'in_app_only' }), 1);
    assert.equal(valueOf(samples, 'billflow_runs_cancelled_total', { type: 'metered' }), 1);
    await app.close();
    await h.app.close();
  });
});
