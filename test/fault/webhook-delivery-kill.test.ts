// Outgoing event webhooks delivered by `billflow worker` processes on one PostgreSQL, the first
// killed with -9 while its requests are in flight: every message arrives, each under its own
// webhook-id and correctly signed; the only repeats are the messages the killed worker had in
// flight, sent again under the same id.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { WEBHOOK_EVENT_TYPES, createWebhookEndpoint, emitEvent, parseAllowHosts } from '../../src/notify/index.ts';
import { TEST_DATABASES, freshDatabase } from '../helpers/databases.ts';
import { until } from './harness.ts';
import { billflowWorker } from './billflow-workers.ts';

const PER_TYPE = 3;
const ALLOW = { BILLFLOW_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' };

test(
  'every event type, 3 facts each, delivered by worker processes; one killed -9 mid-request: all arrive, repeats only under the same id',
  {
    timeout: 300_000,
    skip: TEST_DATABASES.includes('postgres') || process.env.CI === 'true' ? false : 'needs PostgreSQL',
  },
  async () => {
    assert.ok(TEST_DATABASES.includes('postgres'), 'CI runs the fault tests on PostgreSQL');
    const { db, url } = await freshDatabase('postgres');
    assert.ok(url);

    // A receiver that holds every request open until `open`, then answers 200.
    const received: { id: string; body: string; verified: boolean }[] = [];
    const held: ServerResponse[] = [];
    let open = false;
    let secret = '';
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        };
        let verified = true;
        try {
          new Webhook(secret).verify(body, headers);
        } catch {
          verified = false;
        }
        received.push({ id: headers['webhook-id'], body, verified });
        if (open) res.writeHead(200).end('ok');
        else held.push(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    const created = await createWebhookEndpoint(db, parseAllowHosts('127.0.0.1'), {
      url: `http://127.0.0.1:${port}/billing-events`,
      description: 'fault test',
      event_types: null,
      createdBy: 'user:test',
      now: new Date(),
    });
    secret = created.secret;

    const facts: string[] = [];
    for (const type of WEBHOOK_EVENT_TYPES) {
      for (let i = 0; i < PER_TYPE; i++) {
        const id = await emitEvent(db, { type, payload: { id: `${type}:${i}` }, runId: `run_fault_${i}` });
        assert.ok(id);
        facts.push(id);
      }
    }

    const first = billflowWorker(url, 'a', ALLOW);
    const workers = [first];
    try {
      await first.waitFor('worker started', (l) => l.msg === 'worker started', 60_000);
      // Its first pass claims a batch and posts it; the receiver holds the requests.
      const inFlight = await until('requests in flight', async () => received.length >= 5 && received.length);
      first.child.kill('SIGKILL');
      await first.exited;
      held.splice(0).forEach((res) => res.destroy());
      const claimedByTheDead = new Set(received.map((r) => r.id));
      // Claimed by the killed worker: sent (held by the receiver) or about to be. Their claims
      // end with their lease (timeout + 60 s); move it to now rather than wait, as the clock would.
      const claimed = await db.query<{ event_id: string }>(
        `UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending' AND last_attempt_at IS NOT NULL
         RETURNING event_id`,
      );
      const claimedIds = new Set(claimed.rows.map((r) => r.event_id));
      assert.ok(
        [...claimedByTheDead].every((id) => claimedIds.has(id)),
        'what the receiver got is what the dead worker claimed, still pending',
      );

      open = true;
      const second = billflowWorker(url, 'b', ALLOW);
      const third = billflowWorker(url, 'c', ALLOW);
      workers.push(second, third);
      await until(
        'every message delivered',
        async () => {
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`,
          );
          return rows[0]?.n === facts.length;
        },
        {
          timeoutMs: 120_000,
          describe: async () =>
            JSON.stringify(
              (
                await db.query(
                  'SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status ORDER BY status',
                )
              ).rows,
            ),
        },
      );

      const ids = received.map((r) => r.id);
      assert.deepEqual([...new Set(ids)].sort(), [...facts].sort(), 'every message, under its own id');
      assert.ok(
        received.every((r) => r.verified),
        'every request verifies with standardwebhooks',
      );
      const repeats = ids.filter((id, i) => ids.indexOf(id) !== i);
      assert.ok(
        repeats.every((id) => claimedByTheDead.has(id)),
        'only the killed worker’s messages came twice',
      );
      assert.equal(repeats.length, claimedByTheDead.size, 'each of them once more');
      // One message per fact: payloads arrive as emitted.
      for (const r of received) assert.match(r.body, /"type":"[a-z_]+\.[a-z_]+"/);
      const attempts = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_attempts WHERE ok AND status_code = 200`,
      );
      assert.equal(attempts.rows[0]?.n, facts.length, 'one successful attempt recorded per message');
      console.log(
        `# webhooks under kill -9: ${facts.length} messages, ${inFlight} in flight at the kill, ` +
          `${received.length} requests received, ${repeats.length} repeats (same id)`,
      );
    } finally {
      for (const w of workers) if (w.alive) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    }
  },
);
