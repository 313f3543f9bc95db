import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { Db } from '../../src/db/types.ts';
import {
  DISABLE_AFTER_MS,
  RETRY_SCHEDULE_MS,
  createWebhookEndpoint,
  deliverDueWebhooks,
  emitEvent,
  guardedLookup,
  parseAllowHosts,
  postGuarded,
  recoverFailed,
  resendMessage,
  rotateWebhookSecret,
  urlProblem,
} from '../../src/notify/index.ts';
import type { Resolver, WebhookDeliveryDeps } from '../../src/notify/index.ts';
import { createMetrics } from '../../src/observability/index.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { parseMetrics, valueOf } from '../observability/support.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real receiver: answers the statuses in `respond` in order (200 once empty; 0 = never answers). */
async function startReceiver() {
  const state = { url: '', received: [] as Received[], respond: [] as number[], answer: 'ok' };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = state.respond.shift() ?? 200;
      if (status === 0) return; // hangs until the client gives up
      res.writeHead(status, { 'content-type': 'text/plain' }).end(state.answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    state,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
before(async () => {
  receiver = await startReceiver();
});
after(() => receiver.stop());

const guard = parseAllowHosts('127.0.0.1');

async function setup(kind: Parameters<typeof freshDatabase>[0], start = new Date()) {
  const { db } = await freshDatabase(kind);
  const clock = testClock(start);
  receiver.state.received.length = 0;
  receiver.state.respond.length = 0;
  receiver.state.answer = 'ok';
  const deps: WebhookDeliveryDeps = { clock: clock.now, guard, timeoutMs: 2_000 };
  const { endpoint, secret } = await createWebhookEndpoint(db, guard, {
    url: `${receiver.state.url}/hooks`,
    description: 'test',
    event_types: null,
    createdBy: 'user:test',
    now: clock.now(),
  });
  return { db, clock, deps, endpoint, secret };
}

const count = async (db: Db, sql: string, params: unknown[] = []) =>
  (await db.query<{ n: number }>(sql, params)).rows[0]?.n ?? 0;

eachDatabase((kind) => {
  test('an event is delivered once, signed (verified by standardwebhooks), and its attempt recorded', async () => {
    const { db, deps, endpoint, secret } = await setup(kind);
    const id = await db.transaction((tx) =>
      emitEvent(tx, { type: 'payment.succeeded', payload: { id: 'pay_1', amount: 1200 }, runId: 'run_1' }),
    );
    assert.match(String(id), /^msg_[0-9a-f]+$/);
    assert.deepEqual(await deliverDueWebhooks(db, deps), { attempted: 1, delivered: 1, failed: 0 });
    assert.deepEqual(await deliverDueWebhooks(db, deps), { attempted: 0, delivered: 0, failed: 0 }, 'once');
    assert.equal(receiver.state.received.length, 1);
    const got = receiver.state.received[0] as Received;
    assert.equal(got.headers['webhook-id'], id);
    const verified = new Webhook(secret).verify(got.body, got.headers as Record<string, string>) as {
      type: string;
      run_id: string;
      data: unknown;
    };
    assert.equal(verified.type, 'payment.succeeded');
    assert.equal(verified.run_id, 'run_1');
    assert.deepEqual(verified.data, { id: 'pay_1', amount: 1200 });
    assert.throws(() =>
      new Webhook(`whsec_${Buffer.from('x'.repeat(24)).toString('base64')}`).verify(
        got.body,
        got.headers as Record<string, string>,
      ),
    );
    const { rows } = await db.query<{
      status: string;
      attempt_count: number;
      ok: boolean;
      status_code: number;
      response_body: string;
    }>(
      `SELECT d.status, d.attempt_count, a.ok, a.status_code, a.response_body
       FROM webhook_deliveries d JOIN webhook_attempts a USING (event_id, endpoint_id) WHERE d.endpoint_id = $1`,
      [endpoint.id],
    );
    assert.deepEqual(rows, [
      { status: 'delivered', attempt_count: 1, ok: true, status_code: 200, response_body: 'ok' },
    ]);
  });

  test('endpoints get only the types they subscribe to; nothing is written when nobody listens', async () => {
    const { db } = await freshDatabase(kind);
    assert.equal(await emitEvent(db, { type: 'invoice.paid', payload: {} }), null);
    assert.equal(await count(db, 'SELECT count(*)::int AS n FROM webhook_events'), 0);
    const now = new Date();
    const a = await createWebhookEndpoint(db, guard, {
      url: `${receiver.state.url}/a`,
      event_types: ['invoice.paid'],
      createdBy: null,
      now,
    });
    await createWebhookEndpoint(db, guard, {
      url: `${receiver.state.url}/b`,
      event_types: ['refund.created'],
      createdBy: null,
      now,
    });
    await emitEvent(db, { type: 'invoice.paid', payload: { id: 'inv_1' } });
    assert.deepEqual(
      (await db.query<{ endpoint_id: string }>('SELECT endpoint_id FROM webhook_deliveries')).rows.map(
        (r) => r.endpoint_id,
      ),
      [a.endpoint.id],
    );
    // The same key twice is one event.
    const first = await emitEvent(db, { type: 'invoice.paid', payload: {}, key: 'k1' });
    assert.equal(await emitEvent(db, { type: 'invoice.paid', payload: {}, key: 'k1' }), null);
    assert.ok(first);
    assert.equal(await count(db, 'SELECT count(*)::int AS n FROM webhook_events'), 2);
  });

  test('a failing receiver is retried on the schedule, with the same webhook-id; then failed, resent, recovered', async () => {
    const { db, clock, deps, endpoint } = await setup(kind, new Date('2026-01-05T10:00:00Z'));
    const id = (await emitEvent(db, { type: 'invoice.created', payload: { id: 'inv_1' } })) as string;
    receiver.state.respond = Array<number>(RETRY_SCHEDULE_MS.length + 1).fill(500);
    receiver.state.answer = 'x'.repeat(10_000);
    assert.equal((await deliverDueWebhooks(db, deps)).failed, 1);
    for (const delay of RETRY_SCHEDULE_MS) {
      clock.advance(delay - 1);
      assert.equal((await deliverDueWebhooks(db, deps)).attempted, 0, `not before ${delay} ms`);
      clock.advance(1);
      assert.equal((await deliverDueWebhooks(db, deps)).attempted, 1, `after ${delay} ms`);
    }
    assert.equal(receiver.state.received.length, RETRY_SCHEDULE_MS.length + 1);
    assert.ok(
      receiver.state.received.every((r) => r.headers['webhook-id'] === id),
      'the same id on every attempt',
    );
    const total = RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    assert.ok(total > 3 * 24 * 3_600_000 && total < 4 * 24 * 3_600_000, 'about three days');
    const delivery = (
      await db.query<{ status: string; attempt_count: number }>('SELECT status, attempt_count FROM webhook_deliveries')
    ).rows[0];
    assert.deepEqual(delivery, { status: 'failed', attempt_count: RETRY_SCHEDULE_MS.length + 1 });
    const bodies = await db.query<{ len: number; status_code: number }>(
      'SELECT length(response_body)::int AS len, status_code FROM webhook_attempts LIMIT 1',
    );
    assert.deepEqual(bodies.rows[0], { len: 4096, status_code: 500 }, 'the first 4 KB of the answer');
    clock.advance(24 * 3_600_000);
    assert.equal((await deliverDueWebhooks(db, deps)).attempted, 0);

    // Resend: once more, now, same id; the receiver is back.
    receiver.state.respond = [];
    await resendMessage(db, endpoint.id, id, clock.now());
    assert.equal((await deliverDueWebhooks(db, deps)).delivered, 1);
    assert.equal(receiver.state.received.at(-1)?.headers['webhook-id'], id);

    // Recover: every failed message since a time, and only those.
    const other = (await emitEvent(db, { type: 'invoice.created', payload: { id: 'inv_2' } })) as string;
    await db.query(`UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL WHERE event_id = $1`, [
      other,
    ]);
    assert.equal(
      await recoverFailed(db, endpoint.id, new Date(clock.now().getTime() + 1), clock.now()).catch(() => -1),
      -1,
    );
    assert.equal(await recoverFailed(db, endpoint.id, new Date(0), clock.now()), 1);
    assert.equal((await deliverDueWebhooks(db, deps)).delivered, 1);
    assert.equal(receiver.state.received.at(-1)?.headers['webhook-id'], other);
  });

  test('metrics: attempts by outcome and their latency; pending messages and the oldest, read from the database', async () => {
    const { db, clock, deps } = await setup(kind);
    const metrics = createMetrics({ db, processMetrics: false, cacheMs: 0 });
    const withMetrics: WebhookDeliveryDeps = { ...deps, onAttempt: (event) => metrics.onWebhookAttempt(event) };
    const scrape = async () => parseMetrics((await metrics.render()).body);
    await emitEvent(db, { type: 'invoice.paid', payload: { id: 'inv_1' } });
    await emitEvent(db, { type: 'invoice.paid', payload: { id: 'inv_2' } });
    receiver.state.respond = [500, 200];
    assert.deepEqual(await deliverDueWebhooks(db, withMetrics), { attempted: 2, delivered: 1, failed: 1 });
    let samples = await scrape();
    assert.equal(valueOf(samples, 'billflow_webhook_attempts_total', { outcome: 'delivered' }), 1);
    assert.equal(valueOf(samples, 'billflow_webhook_attempts_total', { outcome: 'retry_scheduled' }), 1);
    assert.equal(valueOf(samples, 'billflow_webhook_attempt_duration_seconds_count'), 2);
    assert.equal(valueOf(samples, 'billflow_webhook_deliveries_pending'), 1);
    await db.query(`UPDATE webhook_deliveries SET created_at = now() - interval '1 hour' WHERE status = 'pending'`);
    const age = valueOf(await scrape(), 'billflow_webhook_oldest_pending_age_seconds') ?? 0;
    assert.ok(age >= 3600 && age < 3700, `oldest pending ${age} s`);
    // Its schedule runs out at the next failure: given up, nothing pending any more.
    await db.query(`UPDATE webhook_deliveries SET round_start = attempt_count - ${RETRY_SCHEDULE_MS.length}`);
    receiver.state.respond = [503];
    clock.advance(RETRY_SCHEDULE_MS[0] as number);
    assert.equal((await deliverDueWebhooks(db, withMetrics)).failed, 1);
    samples = await scrape();
    assert.equal(valueOf(samples, 'billflow_webhook_attempts_total', { outcome: 'gave_up' }), 1);
    assert.equal(valueOf(samples, 'billflow_webhook_deliveries_pending'), 0);
    assert.equal(valueOf(samples, 'billflow_webhook_oldest_pending_age_seconds'), 0);
    assert.equal(valueOf(samples, 'billflow_webhook_endpoints_disabled_total'), 0);
  });

  test('an endpoint failing for 5 days in a row is disabled and an alert raised, once', async () => {
    const { db, clock, deps, endpoint } = await setup(kind, new Date('2026-01-05T10:00:00Z'));
    const failing = () => {
      receiver.state.respond = Array<number>(50).fill(503);
    };
    failing();
    // A message a day keeps the endpoint failing; each one's retries run out after ~3 days.
    let days = 0;
    while (days <= 5) {
      await emitEvent(db, { type: 'payment.failed', payload: { day: days } });
      for (let h = 0; h < 24; h++) {
        await deliverDueWebhooks(db, deps);
        clock.advance(3_600_000);
        failing();
      }
      days++;
    }
    const row = (
      await db.query<{ enabled: boolean; disabled_reason: string }>(
        'SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1',
        [endpoint.id],
      )
    ).rows[0];
    assert.deepEqual(row, { enabled: false, disabled_reason: 'every delivery failed for 5 days' });
    const firstFailure = (await db.query<{ at: Date }>('SELECT min(attempted_at) AS at FROM webhook_attempts')).rows[0]
      ?.at;
    const disabledAt = (await db.query<{ at: Date }>('SELECT max(attempted_at) AS at FROM webhook_attempts')).rows[0]
      ?.at;
    assert.ok(new Date(disabledAt as Date).getTime() - new Date(firstFailure as Date).getTime() >= DISABLE_AFTER_MS);
    const alerts = await db.query<{ kind: string; title: string }>(
      `SELECT kind, title FROM notifications WHERE event = 'webhook_endpoint_disabled'`,
    );
    assert.deepEqual(alerts.rows, [{ kind: 'alert', title: `Webhook endpoint disabled: ${receiver.state.url}` }]);
    const sent = receiver.state.received.length;
    clock.advance(24 * 3_600_000);
    assert.equal((await deliverDueWebhooks(db, deps)).attempted, 0, 'a disabled endpoint gets nothing');
    assert.equal(receiver.state.received.length, sent);
  });

  test('a timeout is a failed attempt; two workers claim a message once; a claim whose worker died is sent again', async () => {
    const { db, clock, deps } = await setup(kind);
    const id = (await emitEvent(db, { type: 'refund.created', payload: { id: 're_1' } })) as string;
    receiver.state.respond = [0];
    const [a, b] = await Promise.all([
      deliverDueWebhooks(db, { ...deps, timeoutMs: 300 }),
      deliverDueWebhooks(db, { ...deps, timeoutMs: 300 }),
    ]);
    assert.equal(a.attempted + b.attempted, 1, 'claimed by one worker');
    const attempt = (
      await db.query<{ error: string; status_code: number | null }>('SELECT error, status_code FROM webhook_attempts')
    ).rows[0];
    assert.deepEqual(attempt, { error: 'no answer within 300 ms', status_code: null });

    // A worker that claims and dies: the lease runs out, the message is due again, same id.
    await db.query(
      `UPDATE webhook_deliveries SET next_attempt_at = $1, attempt_count = attempt_count + 1 WHERE event_id = $2`,
      [new Date(clock.now().getTime() + 70_000), id],
    );
    clock.advance(69_000);
    assert.equal((await deliverDueWebhooks(db, deps)).attempted, 0, 'leased');
    clock.advance(1_001);
    assert.equal((await deliverDueWebhooks(db, deps)).delivered, 1);
    assert.deepEqual(
      receiver.state.received.map((r) => r.headers['webhook-id']),
      [id, id],
    );
  });

  test('after a rotation both secrets sign for 24 hours, then only the new one', async () => {
    const { db, clock, deps, endpoint, secret: oldSecret } = await setup(kind);
    const { secret: newSecret } = await rotateWebhookSecret(db, endpoint.id, clock.now());
    assert.notEqual(newSecret, oldSecret);
    await emitEvent(db, { type: 'customer.disabled', payload: { id: 'cus_1' } });
    await deliverDueWebhooks(db, deps);
    const got = receiver.state.received[0] as Received;
    assert.equal(String(got.headers['webhook-signature']).split(' ').length, 2);
    for (const s of [oldSecret, newSecret]) new Webhook(s).verify(got.body, got.headers as Record<string, string>);
    clock.advance(24 * 3_600_000 + 1);
    await emitEvent(db, { type: 'customer.disabled', payload: { id: 'cus_2' } });
    await deliverDueWebhooks(db, deps);
    const later = receiver.state.received[1] as Received;
    assert.equal(String(later.headers['webhook-signature']).split(' ').length, 1);
  });
});

test('SSRF guard: loopback, private and metadata addresses are refused unless allowed', async () => {
  const strict = parseAllowHosts('');
  for (const url of [
    'https://127.0.0.1/x',
    'https://10.0.0.1/x',
    'https://169.254.169.254/latest',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://localhost/',
  ]) {
    assert.ok(urlProblem(strict, url), url);
  }
  assert.equal(urlProblem(strict, 'http://hooks.example.com/x'), 'must be an https URL');
  assert.equal(urlProblem(strict, 'https://hooks.example.com/x'), null);
  assert.equal(urlProblem(parseAllowHosts('10.0.0.0/8'), 'https://10.0.0.1/x'), null);
  assert.equal(urlProblem(parseAllowHosts('127.0.0.1'), 'http://127.0.0.1:9/x'), null);
  assert.throws(() => parseAllowHosts('10.0.0.0/99'));

  // A name resolving to such an address is refused where the socket connects (DNS rebinding).
  for (const address of ['127.0.0.1', '10.0.0.1', '169.254.169.254']) {
    const resolver: Resolver = async () => [{ address, family: 4 }];
    const result = await postGuarded(
      'https://rebind.example.com/hook',
      '{}',
      {},
      { guard: strict, resolver, timeoutMs: 2_000 },
    );
    assert.equal(result.ok, false);
    assert.match(String(result.error), new RegExp(`resolves to ${address.replace(/\./g, '\\.')}`));
  }
  // Unless the name is allowed: then it is reached (over http too).
  const resolver: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
  const port = new URL(receiver.state.url).port;
  const allowed = await postGuarded(
    `http://rebind.example.com:${port}/hook`,
    '{}',
    {},
    {
      guard: parseAllowHosts('rebind.example.com'),
      resolver,
      timeoutMs: 2_000,
    },
  );
  assert.equal(allowed.ok, true, String(allowed.error));
  // Or the address's network is.
  const looked = await new Promise<unknown>((resolve) =>
    guardedLookup(parseAllowHosts('127.0.0.0/8'), resolver)('x.example.com', { all: true }, (error, addresses) =>
      resolve(error ?? addresses),
    ),
  );
  assert.deepEqual(looked, [{ address: '127.0.0.1', family: 4 }]);
});
