import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { createWebhookEndpoint, deliverDueWebhooks, emitEvent, parseAllowHosts } from '../../src/notify/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { apiHarness, problemOf, snapshot } from './support.ts';

const received: { headers: IncomingHttpHeaders; body: string }[] = [];
const statuses: number[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(statuses.shift() ?? 204).end();
  });
});
let receiverUrl = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const guard = parseAllowHosts('127.0.0.1');

eachDatabase((kind) => {
  test('endpoints through the API: secret once, guarded URLs, deliveries, attempts, resend, recover', async () => {
    const h = await apiHarness(kind, { webhookGuard: guard });
    // Receivers check the signature's timestamp against their own clock.
    h.clock.set(new Date());
    const dev = h.apiKey('developer');
    const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = {}) =>
      h.app.inject({ method, url: `/api/v1${url}`, headers: { ...dev, ...headers }, ...(payload ? { payload } : {}) });

    // Refused URLs change nothing and name the field.
    const before = await snapshot(h.db);
    for (const url of [
      'https://10.0.0.1/x',
      'https://169.254.169.254/x',
      'ftp://x.example.com',
      'http://hooks.example.com',
    ]) {
      const bad = await api('POST', '/webhook-endpoints', { url });
      assert.equal(bad.statusCode, 400, url);
      assert.deepEqual(
        problemOf(bad).errors?.map((e) => e.field),
        ['url'],
      );
    }
    const badType = await api('POST', '/webhook-endpoints', { url: `${receiverUrl}/h`, event_types: ['payment.nope'] });
    assert.equal(badType.statusCode, 400);
    assert.deepEqual(await snapshot(h.db), before);

    const created = await api(
      'POST',
      '/webhook-endpoints',
      { url: `${receiverUrl}/h`, description: 'CRM', event_types: ['invoice.paid'] },
      { 'idempotency-key': 'create-1' },
    );
    assert.equal(created.statusCode, 201, created.body);
    const { endpoint, secret } = created.json() as { endpoint: { id: string; event_types: string[] }; secret: string };
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{32}$/);
    assert.deepEqual(endpoint.event_types, ['invoice.paid']);
    const stored = await h.db.query<{ secret: string; description: string; created_by: string }>(
      'SELECT secret, description, created_by FROM webhook_endpoints WHERE id = $1',
      [endpoint.id],
    );
    assert.equal(stored.rows[0]?.secret, secret);
    assert.equal(stored.rows[0]?.description, 'CRM');
    const replay = await api(
      'POST',
      '/webhook-endpoints',
      { url: `${receiverUrl}/h`, description: 'CRM', event_types: ['invoice.paid'] },
      { 'idempotency-key': 'create-1' },
    );
    assert.equal(replay.statusCode, 201);
    assert.equal((replay.json() as { secret: string | null }).secret, null, 'shown once');
    assert.equal((await h.db.query('SELECT 1 FROM webhook_endpoints')).rows.length, 1);

    const list = await api('GET', '/webhook-endpoints');
    assert.equal(list.statusCode, 200);
    assert.ok(!list.body.includes('whsec_'), 'never the secret again');
    assert.equal((await api('GET', `/webhook-endpoints/${endpoint.id}`)).statusCode, 200);

    const patched = await api('PATCH', `/webhook-endpoints/${endpoint.id}`, { event_types: null, description: 'All' });
    assert.equal(patched.statusCode, 200, patched.body);
    const row = await h.db.query<{ event_types: string[] | null; description: string }>(
      'SELECT event_types, description FROM webhook_endpoints WHERE id = $1',
      [endpoint.id],
    );
    assert.deepEqual(row.rows[0], { event_types: null, description: 'All' });
    assert.equal((await api('PATCH', `/webhook-endpoints/${endpoint.id}`, { enabled: 'no' })).statusCode, 400);

    const rotated = await api('POST', `/webhook-endpoints/${endpoint.id}/rotate-secret`);
    assert.equal(rotated.statusCode, 201, rotated.body);
    const newSecret = (rotated.json() as { secret: string }).secret;
    assert.notEqual(newSecret, secret);

    // A delivery that fails once then succeeds: visible with its two attempts.
    const eventId = (await emitEvent(h.db, {
      type: 'invoice.paid',
      payload: { id: 'inv_1' },
      runId: 'run_9',
    })) as string;
    const deps = { clock: h.clock.now, guard, timeoutMs: 2_000 };
    statuses.push(500);
    await deliverDueWebhooks(h.db, deps);
    h.clock.advance(5_000);
    await deliverDueWebhooks(h.db, deps);
    for (const s of [secret, newSecret]) {
      new Webhook(s).verify(received.at(-1)?.body ?? '', received.at(-1)?.headers as Record<string, string>);
    }
    const deliveries = await api('GET', `/webhook-endpoints/${endpoint.id}/deliveries`);
    assert.equal(deliveries.statusCode, 200, deliveries.body);
    const page = deliveries.json() as { items: { event_id: string; status: string; attempt_count: number }[] };
    assert.deepEqual(
      page.items.map((d) => [d.event_id, d.status, d.attempt_count]),
      [[eventId, 'delivered', 2]],
    );
    const attempts = await api('GET', `/webhook-endpoints/${endpoint.id}/attempts?event_id=${eventId}`);
    const items = (attempts.json() as { items: { attempt: number; status_code: number; ok: boolean }[] }).items;
    assert.deepEqual(
      items.map((a) => [a.attempt, a.status_code, a.ok]),
      [
        [2, 204, true],
        [1, 500, false],
      ],
    );

    const resent = await api('POST', `/webhook-endpoints/${endpoint.id}/deliveries/${eventId}/resend`);
    assert.equal(resent.statusCode, 202, resent.body);
    assert.equal((await api('POST', `/webhook-endpoints/${endpoint.id}/deliveries/msg_0000/resend`)).statusCode, 404);
    await deliverDueWebhooks(h.db, deps);
    assert.equal(received.at(-1)?.headers['webhook-id'], eventId);

    await h.db.query(`UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL`);
    const recovered = await api('POST', `/webhook-endpoints/${endpoint.id}/recover`, { since: '2000-01-01T00:00:00Z' });
    assert.equal(recovered.statusCode, 202, recovered.body);
    assert.deepEqual(recovered.json(), { queued: 1 });
    assert.equal((await api('POST', `/webhook-endpoints/${endpoint.id}/recover`, { since: 5 })).statusCode, 400);

    const audit = await h.db.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE action LIKE 'webhook_endpoint.%' ORDER BY id`,
    );
    assert.deepEqual(
      audit.rows.map((r) => r.action),
      [
        'webhook_endpoint.create',
        'webhook_endpoint.update',
        'webhook_endpoint.rotate_secret',
        'webhook_endpoint.resend',
        'webhook_endpoint.recover',
      ],
    );
    assert.equal((await api('DELETE', `/webhook-endpoints/${endpoint.id}`)).statusCode, 204);
    assert.equal((await h.db.query('SELECT 1 FROM webhook_deliveries')).rows.length, 0);
    // Support cannot see endpoints.
    const support = await h.app.inject({
      method: 'GET',
      url: '/api/v1/webhook-endpoints',
      headers: h.apiKey('customer_support'),
    });
    assert.equal(support.statusCode, 403);
    await h.app.close();
  });
});

eachDatabase((kind) => {
  test("a run's webhook messages: per endpoint with the last answer, for account managers; origin only", async () => {
    const h = await apiHarness(kind, { webhookGuard: guard });
    h.clock.set(new Date());
    await h.db.exec(`
      INSERT INTO workflow_runs (id, type, status, steps, step_index, created_at)
      VALUES ('run_0a1b2c', 'payment_success', 'in_progress', ARRAY['a', 'b'], 1, now()),
             ('run_0d4e5f', 'payment_success', 'in_progress', ARRAY['a', 'b'], 1, now())`);
    const crm = await createWebhookEndpoint(h.db, guard, {
      url: `${receiverUrl}/crm/token-abc`,
      description: 'CRM',
      event_types: null,
      createdBy: 'user:test',
      now: h.clock.now(),
    });
    const other = await createWebhookEndpoint(h.db, guard, {
      url: `${receiverUrl}/ledger`,
      description: 'ledger',
      event_types: ['invoice.paid'],
      createdBy: 'user:test',
      now: h.clock.now(),
    });
    const paid = await emitEvent(h.db, { type: 'payment.succeeded', payload: { id: 'pay_1' }, runId: 'run_0a1b2c' });
    await emitEvent(h.db, { type: 'payment.succeeded', payload: { id: 'pay_2' }, runId: 'run_0d4e5f' });
    statuses.push(503, 503);
    const deps = { clock: h.clock.now, guard, timeoutMs: 2_000 };
    assert.equal((await deliverDueWebhooks(h.db, deps)).attempted, 2);

    const list = (role: Parameters<typeof h.apiKey>[0], id = 'run_0a1b2c') =>
      h.app.inject({ method: 'GET', url: `/api/v1/workflows/${id}/webhook-deliveries`, headers: h.apiKey(role) });
    const seen = await list('account_manager');
    assert.equal(seen.statusCode, 200, seen.body);
    const items = (seen.json() as { items: Record<string, unknown>[] }).items;
    assert.deepEqual(
      items.map((i) => [
        i.event_id,
        i.type,
        i.endpoint_id,
        i.endpoint_origin,
        i.status,
        i.attempt_count,
        i.last_status_code,
      ]),
      [[paid, 'payment.succeeded', crm.endpoint.id, receiverUrl, 'pending', 1, 503]],
      'only this run, only the endpoint that subscribes to its type',
    );
    assert.ok(!seen.body.includes('token-abc'), "the endpoint's path stays out");
    assert.ok(items[0]?.next_attempt_at, 'the retry time is shown');
    assert.notEqual(other.endpoint.id, crm.endpoint.id);

    assert.equal((await list('customer_support')).statusCode, 403);
    assert.equal((await list('account_manager', 'run_999999')).statusCode, 404);
    const none = await h.db.query(`INSERT INTO workflow_runs (id, type, status, steps, step_index, created_at)
      VALUES ('run_0c0c0c', 'payment_success', 'completed', ARRAY['a'], 1, now())`);
    assert.equal(none.rowCount, 1);
    assert.deepEqual((await list('account_manager', 'run_0c0c0c')).json(), { items: [] });
  });
});
