import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { RunDetail } from '../../src/engine/index.ts';
import { createWebhookEndpoint, deliverDueWebhooks, parseAllowHosts } from '../../src/notify/index.ts';
import { payInvoice, startInvoice } from '../../src/billing/workflows/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { seedCustomer } from './helpers.ts';

// Events come from the db steps that made their facts true: once per fact, with the run's id,
// however often the worker polls; then delivered signed.
const DAY = 86_400_000;
const guard = parseAllowHosts('127.0.0.1');

eachDatabase((kind) => {
  const harness = billingHarness(kind);
  const invoiceFor = (h: BillingHarness, customerId: string) =>
    startInvoice(
      h.db,
      h.registry,
      {
        customer_id: customerId,
        currency: 'EUR',
        lines: [{ description: 'Pro plan', amount: 4900 }],
        due_at: new Date(h.clock.now().getTime() + 10 * DAY).toISOString(),
      },
      { now: h.clock.now() },
    );
  const waitingAt = (h: BillingHarness, runId: string, stepName: string): Promise<RunDetail> =>
    h.settle(runId, (r) => r.status !== 'in_progress' || (r.activity === 'waiting' && r.current_step === stepName));

  test('invoice created, overdue, customer disabled, invoice paid: one event each, delivered signed', async () => {
    const h = await harness;
    const received: { headers: Record<string, string>; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString() });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    const { secret } = await createWebhookEndpoint(h.db, guard, {
      url: `http://127.0.0.1:${port}/events`,
      event_types: null,
      createdBy: null,
      now: h.clock.now(),
    });

    const customer = await seedCustomer(h.db, { name: 'Late Ltd' });
    const unpaid = await invoiceFor(h, customer.id);
    await waitingAt(h, unpaid.runId, 'await_payment');
    h.clock.set(unpaid.record.due_at);
    await waitingAt(h, unpaid.runId, 'await_grace_period');
    h.clock.set(new Date(unpaid.record.due_at.getTime() + 30 * DAY));
    assert.equal((await h.settle(unpaid.runId)).status, 'completed');

    const paid = await invoiceFor(h, customer.id);
    await waitingAt(h, paid.runId, 'await_payment');
    await payInvoice(h.db, paid.record.id, { now: h.clock.now() });
    await h.settle(paid.runId);

    const { rows } = await h.db.query<{ type: string; run_id: string | null; id: string }>(
      `SELECT type, run_id, payload->>'id' AS id FROM webhook_events ORDER BY created_at, type`,
    );
    const of = (type: string) => rows.filter((r) => r.type === type);
    assert.deepEqual(
      of('invoice.created').map((r) => [r.id, r.run_id]),
      [
        [unpaid.record.id, unpaid.runId],
        [paid.record.id, paid.runId],
      ],
    );
    assert.deepEqual(
      of('invoice.overdue').map((r) => [r.id, r.run_id]),
      [[unpaid.record.id, unpaid.runId]],
    );
    assert.deepEqual(
      of('customer.disabled').map((r) => [r.id, r.run_id]),
      [[customer.id, unpaid.runId]],
    );
    assert.deepEqual(
      of('invoice.paid').map((r) => r.id),
      [paid.record.id],
    );

    // Delivered with the receiver's own clock, so the signature's timestamp is fresh.
    await deliverDueWebhooks(h.db, { clock: () => new Date(), guard });
    assert.equal(received.length, rows.length);
    for (const message of received) new Webhook(secret).verify(message.body, message.headers);
    assert.equal(new Set(received.map((m) => m.headers['webhook-id'])).size, rows.length);
    server.close();
  });
});
