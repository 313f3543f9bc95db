// The step editor in Chromium against a real Billflow: a developer inserts a custom webhook step
// into payment_success (its secret shown once), a new run calls the receiver and shows the step
// with its output in its timeline; disabled and moved (each with a reason) it stays in the list.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { apiClient, browserSession, describeInChromium, eventually } from './harness.ts';

const DEV = { email: 'dev@example.com', password: 'correct horse battery staple' };

describeInChromium('Custom step editor in Chromium', () => {
  const ui = browserSession({ users: [{ ...DEV, role: 'developer' }], signIn: DEV, receiver: true });

  it('inserts a custom step and sees it in a new run’s timeline', async () => {
    const db = ui.db;
    await ui.page.goto('/settings/steps');
    await ui.page
      .getByRole('region', { name: 'Workflow steps' })
      .getByRole('link', { name: 'Payment succeeded' })
      .click();
    await ui.page.getByRole('heading', { name: 'Payment succeeded: steps' }).waitFor();
    const sequence = ui.page.getByRole('list', { name: 'Step sequence' });
    await sequence.getByRole('button', { name: 'Insert step after generate_receipt' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Insert a step after generate_receipt' });
    await dialog.getByLabel('Step name').fill('crm_sync');
    await dialog.getByLabel('Endpoint URL').fill(`${ui.receiver.url}/crm`);
    await dialog.getByLabel('Method').selectOption('PUT');
    await dialog.getByLabel('Reason').fill('keep the CRM in step');
    await dialog.getByRole('button', { name: 'Insert step' }).click();
    const secret = await ui.page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    assert.match(secret, /^whsec_/);
    await ui.page.getByRole('button', { name: 'I have copied it' }).click();
    await sequence.getByRole('listitem', { name: 'Custom step crm_sync' }).waitFor();
    const names = await sequence
      .getByRole('listitem')
      .evaluateAll((items) => items.map((li) => li.getAttribute('aria-label')));
    assert.deepEqual(names.slice(0, 3), [
      'Built-in step record_payment',
      'Built-in step generate_receipt',
      'Custom step crm_sync',
    ]);
    const stored = await db.query<{ method: string; after_step: string; secret: string; reason: string }>(
      'SELECT method, after_step, secret, reason FROM custom_step_versions',
    );
    assert.deepEqual(stored.rows, [
      { method: 'PUT', after_step: 'generate_receipt', secret, reason: 'keep the CRM in step' },
    ]);

    // A new run calls it and shows it, with its output, in its timeline.
    const key = await createApiKey(db, {
      name: 'ui',
      role: 'admin',
      expiresAt: null,
      createdBy: null,
      now: new Date(),
    });
    const call = apiClient(ui.stack.url, key.key);
    const customer = await call<{ customer: { id: string } }>('POST', '/customers', { email: 'ada@example.com' });
    const payment = await call<{ workflow_run_id: string }>('POST', '/payments', {
      customer_id: customer.body.customer.id,
      amount: 1500,
      currency: 'EUR',
      status: 'succeeded',
    });
    assert.equal(payment.status, 201);
    const runId = payment.body.workflow_run_id;
    await eventually(async () => {
      const run = await call<{ status: string }>('GET', `/workflows/${runId}`);
      return run.body.status === 'completed';
    }, 'the payment run');
    assert.equal(ui.receiver.received.filter((r) => r.path === '/crm').length, 1);

    await ui.page.goto(`/runs/${runId}`);
    const step = ui.page.getByRole('listitem', { name: 'Step 3: custom:crm_sync:1, Completed' });
    await step.getByRole('heading', { name: 'custom:crm_sync:1' }).waitFor();
    await step.getByText('Output of custom:crm_sync:1', { exact: true }).click();
    await step
      .getByLabel('Output of custom:crm_sync:1', { exact: true })
      .getByText(/response_text/)
      .waitFor();
    await ui.b.shot('custom-step-run');

    // Disabled with a reason: still in place in the editor, marked disabled.
    await ui.page.goto('/workflow-types/payment_success/steps');
    await sequence.getByRole('button', { name: 'Disable crm_sync' }).click();
    const disable = ui.page.getByRole('dialog', { name: 'Disable crm_sync' });
    await disable.getByLabel('Reason').fill('CRM maintenance');
    await disable.getByRole('button', { name: 'Disable step' }).click();
    await sequence.getByRole('button', { name: 'Enable crm_sync' }).waitFor();
    await sequence.getByRole('button', { name: 'Move crm_sync' }).click();
    const move = ui.page.getByRole('dialog', { name: 'Move crm_sync' });
    await move.getByLabel('Run after').selectOption('update_stats');
    await move.getByLabel('Reason').fill('after the stats');
    await move.getByRole('button', { name: 'Move step' }).click();
    await eventually(async () => {
      const labels = await sequence
        .getByRole('listitem')
        .evaluateAll((items) => items.map((li) => li.getAttribute('aria-label')));
      return labels[3] === 'Custom step crm_sync';
    }, 'crm_sync after update_stats');
    const audit = await db.query<{ reason: string }>(
      `SELECT reason FROM audit_log WHERE action LIKE 'custom_step.%' ORDER BY at`,
    );
    assert.deepEqual(
      audit.rows.map((r) => r.reason),
      ['keep the CRM in step', 'CRM maintenance', 'after the stats'],
    );
    await ui.b.shot('custom-step-editor');
    assert.deepEqual(ui.b.errors, []);
  });
});
