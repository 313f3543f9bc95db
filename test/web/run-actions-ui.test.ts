// The run page's actions in Chromium against a real Billflow: "Run now" on a waiting step says
// what it will do and then what happened; a restart is drawn between the step's attempts with
// who, when and why, and attempts are numbered across it.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { browserSession, describeInChromium, eventually } from './harness.ts';

const MANAGER = { email: 'manager@example.com', password: 'correct horse battery staple' };

interface Run {
  status: string;
  activity: string | null;
  current_step: string | null;
  steps: { name: string; attempts: unknown[] }[];
}

describeInChromium('run actions in Chromium', () => {
  const ui = browserSession({ users: [{ ...MANAGER, role: 'account_manager' }], apiKey: true, signIn: MANAGER });

  const waitForRun = (id: string, until: (r: Run) => boolean, what: string) =>
    eventually(async () => {
      const r = await ui.call<Run>('GET', `/workflows/${id}`);
      return until(r.body) ? r.body : undefined;
    }, what);

  it('Run now on an invoice awaiting payment: says it checks again, then that it waits again', async () => {
    const customer = await ui.call<{ customer: { id: string } }>('POST', '/customers', { email: 'ivy@example.com' });
    const invoice = await ui.call<{ workflow_run_id: string }>('POST', '/invoices', {
      customer_id: customer.body.customer.id,
      currency: 'EUR',
      lines: [{ description: 'Support plan', amount: 9900 }],
      due_at: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    });
    assert.equal(invoice.status, 201);
    const runId = invoice.body.workflow_run_id;
    const waiting = await waitForRun(
      runId,
      (r) => r.activity === 'waiting' && r.current_step === 'await_payment',
      'the run waiting for payment',
    );
    const attemptsBefore = waiting.steps.find((s) => s.name === 'await_payment')?.attempts.length ?? 0;

    await ui.page.goto(`/runs/${runId}`);
    await ui.page.getByRole('button', { name: 'Run now' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Run now' });
    await dialog.getByText(/await_payment is a waiting step, due at .* \(in 3 days\)/).waitFor();
    await dialog.getByText(/If it has \(for example, the invoice was paid\), the run goes on\. If not/).waitFor();
    await dialog.getByLabel('Reason').fill('customer says they paid');
    await dialog.getByRole('button', { name: 'Run now' }).click();
    await dialog
      .getByRole('status')
      .filter({
        hasText: /await_payment checked at .*: what it waits for has not happened yet, so it waits again until/,
      })
      .waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();

    const after = await waitForRun(runId, (r) => r.activity === 'waiting', 'waiting again');
    assert.equal(after.current_step, 'await_payment');
    assert.ok((after.steps.find((s) => s.name === 'await_payment')?.attempts.length ?? 0) > attemptsBefore);
    const { rows } = await ui.db.query<{ actor: string; reason: string }>(
      `SELECT actor, reason FROM workflow_run_events WHERE run_id = $1 AND action = 'run_now'`,
      [runId],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.reason, 'customer says they paid');
    // The action is drawn among the step's attempts, by name.
    const attempts = ui.page.getByRole('table', { name: 'Attempts of await_payment' });
    await attempts.getByText(/Run now .* by manager@example\.com: “customer says they paid”/).waitFor();
    assert.deepEqual(ui.b.errors, []);
  });

  it('a restart is marked between the attempts with who and why; attempts go on counting', async () => {
    ui.stack.smtp.rejectRecipient = (address) => (address.startsWith('quinn') ? 550 : undefined);
    const plan = { code: 'basic', name: 'Basic', amount: 900, currency: 'EUR', interval: 'month' };
    assert.equal((await ui.call('POST', '/plans', plan)).status, 201);
    const customer = await ui.call<{ customer: { id: string } }>('POST', '/customers', { email: 'quinn@example.com' });
    const sub = await ui.call<{ workflow_run_id: string }>('POST', '/subscriptions', {
      customer_id: customer.body.customer.id,
      plan_code: 'basic',
    });
    const runId = sub.body.workflow_run_id;
    await waitForRun(runId, (r) => r.status === 'failed', 'the run to fail at the email');
    ui.stack.smtp.rejectRecipient = () => undefined;

    await ui.page.goto(`/runs/${runId}`);
    await ui.page.getByRole('button', { name: 'Restart from failed step' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Restart from failed step' });
    await dialog.getByLabel('Reason').fill('mailbox fixed');
    await dialog.getByRole('button', { name: 'Restart from failed step' }).click();
    await dialog.getByRole('status').filter({ hasText: 'from Failed to' }).waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await waitForRun(runId, (r) => r.status === 'completed', 'the run to complete');
    await ui.page.getByRole('heading', { name: /Completed/ }).waitFor();

    const attempts = ui.page.getByRole('table', { name: 'Attempts of send_customer_email' });
    await attempts.getByText(/Restarted .* by manager@example\.com: “mailbox fixed”/).waitFor();
    const text = await attempts.locator('tbody').innerText();
    assert.match(text, /#1[\s\S]*Restarted[\s\S]*#2/, text);
    assert.doesNotMatch(text, /#2[\s\S]*#1/, 'numbering goes on after the restart');
    // The audit trail names the person, not their id.
    const trail = ui.page.getByRole('region', { name: 'Audit trail' });
    await trail.getByText('manager@example.com').first().waitFor();
    assert.equal(await trail.getByText(/user:usr_/).count(), 0);
    const { rows } = await ui.db.query<{ actor: string }>(
      `SELECT actor FROM workflow_run_events WHERE run_id = $1 AND action = 'restart'`,
      [runId],
    );
    assert.equal(rows.length, 1);
    assert.match(rows[0]?.actor ?? '', /^user:/);
    assert.deepEqual(ui.b.errors, []);
  });
});
