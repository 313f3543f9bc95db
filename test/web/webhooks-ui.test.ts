// Settings → Webhooks in Chromium against a real Billflow: add an endpoint (its secret shown
// once), a message to it fails once and is delivered by the workers' retry, and the page shows
// the delivery with both attempts — as the database has them.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { emitEvent } from '../../src/notify/index.ts';
import { apiClient, browserSession, describeInChromium, eventually } from './harness.ts';

const DEV = { email: 'dev@example.com', password: 'correct horse battery staple' };

describeInChromium('Webhooks settings in Chromium', () => {
  const ui = browserSession({ users: [{ ...DEV, role: 'developer' }], signIn: DEV, receiver: true });

  it('creates an endpoint, shows its secret once, and a delivery with its attempts', async () => {
    const db = ui.db;
    await ui.page.goto('/settings/webhooks');
    const section = ui.page.getByRole('region', { name: 'Event webhooks' });
    await section.getByText('No webhook endpoint yet.').waitFor();
    const url = `${ui.receiver.url}/billflow`;
    await section.getByLabel('Endpoint URL').fill(url);
    await section.getByLabel('Description').fill('CRM sync');
    await section.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = await ui.page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    assert.match(secret, /^whsec_/);
    const stored = await db.query<{ id: string; secret: string; description: string }>(
      'SELECT id, secret, description FROM webhook_endpoints',
    );
    assert.deepEqual(
      stored.rows.map((r) => [r.secret, r.description]),
      [[secret, 'CRM sync']],
    );
    await ui.page.getByRole('button', { name: 'I have copied it' }).click();
    await section.getByText(url).waitFor();

    // The receiver fails the first attempt; the workers retry 5 s later.
    ui.receiver.respond = [500];
    const eventId = await db.transaction((tx) =>
      emitEvent(tx, { type: 'invoice.paid', payload: { id: 'inv_ui' }, runId: null }),
    );
    assert.ok(eventId);
    await eventually(async () => {
      const { rows } = await db.query<{ status: string }>('SELECT status FROM webhook_deliveries');
      return rows[0]?.status === 'delivered';
    }, 'the retried delivery');
    assert.deepEqual(
      ui.receiver.received.map((r) => r.headers['webhook-id']),
      [eventId, eventId],
    );

    await section.getByRole('button', { name: 'Deliveries' }).click();
    const deliveries = ui.page.getByRole('region', { name: 'Deliveries' });
    await deliveries.getByText(eventId).waitFor();
    await deliveries.getByText('delivered').waitFor();
    await deliveries.getByRole('button', { name: '2 attempts' }).click();
    const attempts = ui.page.getByRole('table', { name: 'Attempts' });
    await attempts.getByRole('cell', { name: '500', exact: true }).waitFor();
    await attempts.getByRole('cell', { name: '200', exact: true }).waitFor();
    const { rows } = await db.query<{ attempt: number; status_code: number }>(
      'SELECT attempt, status_code FROM webhook_attempts ORDER BY attempt',
    );
    assert.deepEqual(
      rows.map((r) => [r.attempt, r.status_code]),
      [
        [1, 500],
        [2, 200],
      ],
    );
  });

  it("a run's page lists the webhook messages it emitted, per endpoint, as the database has them", async () => {
    const db = ui.db;
    const { key } = await createApiKey(db, {
      name: 'ui',
      role: 'admin',
      expiresAt: null,
      createdBy: null,
      now: new Date(),
    });
    const call = apiClient(ui.stack.url, key);
    const customer = await call<{ customer: { id: string } }>('POST', '/customers', { email: 'grace@example.com' });
    ui.receiver.respond = [502, 502, 502];
    const payment = await call<{ workflow_run_id: string }>('POST', '/payments', {
      customer_id: customer.body.customer.id,
      amount: 2500,
      currency: 'EUR',
      status: 'succeeded',
    });
    assert.equal(payment.status, 201);
    const runId = payment.body.workflow_run_id;
    const [message] = await eventually(async () => {
      const { rows } = await db.query<{ id: string; status: string; attempt_count: number }>(
        `SELECT ev.id, d.status, d.attempt_count FROM webhook_events ev JOIN webhook_deliveries d ON d.event_id = ev.id
         WHERE ev.run_id = $1 AND ev.type = 'payment.succeeded' AND d.attempt_count >= 1`,
        [runId],
      );
      return rows.length > 0 && rows;
    }, "the run's message attempted");
    assert.ok(message);
    await ui.page.goto(`/runs/${runId}`);
    const section = ui.page.getByRole('region', { name: 'Webhooks' });
    const row = section.getByRole('row').filter({ hasText: message.id });
    await row.getByRole('cell', { name: ui.receiver.url, exact: true }).waitFor();
    await row.getByText(/HTTP 502|HTTP 200/).waitFor();
    assert.ok(!(await section.textContent())?.includes('/billflow'), "the endpoint's path is not shown");
  });
});
