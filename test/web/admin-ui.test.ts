// The admin UI end to end in real Chromium against a real Billflow (PGlite, real SMTP and Slack
// receivers): first-run setup, a failure seen and fixed from the UI, bulk restart, templates,
// and what a customer_support user may see.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { apiClient, browserSession, describeInChromium, eventually } from './harness.ts';
import type { ApiCall } from './harness.ts';

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const NEW_PASSWORD = 'an even longer passphrase 42';

interface Run {
  id: string;
  status: string;
  activity: string | null;
  failed_step: string | null;
  steps: { name: string; status: string; attempts: unknown[] }[];
}

describeInChromium('admin UI in Chromium', () => {
  const ui = browserSession();
  let call: ApiCall;
  let failedRunId = '';

  const noConsoleErrors = () => assert.deepEqual(ui.b.errors, [], 'console errors in the browser');

  const waitForRun = (id: string, until: (r: Run) => boolean, what: string) =>
    eventually(async () => {
      const r = await call<Run>('GET', `/workflows/${id}`);
      return until(r.body) ? r.body : undefined;
    }, what);

  it('first-run setup from the one-time link, sign out, sign in, change password', async () => {
    const link = await ui.stack.setupLink();
    assert.ok(link, 'a setup link while no user exists');
    await ui.page.goto(link.replace(ui.stack.url, ''));
    await ui.page.getByRole('heading', { name: 'Welcome to Billflow' }).waitFor();
    await ui.page.getByLabel('Email').fill(ADMIN.email);
    await ui.page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await ui.page.getByLabel('Confirm password').fill(ADMIN.password);
    await ui.page.getByRole('button', { name: 'Create admin account' }).click();
    await ui.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.equal(new URL(ui.page.url()).pathname, '/');

    // The link works once.
    assert.equal(await ui.stack.setupLink(), null);

    await ui.page.getByRole('button', { name: `Account: ${ADMIN.email}` }).click();
    await ui.page.getByRole('menuitem', { name: 'Sign out' }).click();
    await ui.page.getByRole('heading', { name: 'Sign in' }).waitFor();

    await ui.page.getByLabel('Email').fill(ADMIN.email);
    await ui.page.getByLabel('Password').fill('not the password');
    await ui.page.getByRole('button', { name: 'Sign in' }).click();
    await ui.page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
    // That 401 is the server refusing wrong credentials, which the page shows.
    ui.b.errors.splice(0, ui.b.errors.length, ...ui.b.errors.filter((e) => !e.includes('/api/v1/auth/login')));

    await ui.page.getByLabel('Password').fill(ADMIN.password);
    await ui.page.getByRole('button', { name: 'Sign in' }).click();
    await ui.page.getByRole('heading', { name: 'Dashboard' }).waitFor();

    await ui.page.getByRole('button', { name: `Account: ${ADMIN.email}` }).click();
    await ui.page.getByRole('menuitem', { name: 'Change password' }).click();
    await ui.page.getByLabel('Current password').fill(ADMIN.password);
    await ui.page.getByLabel('New password').fill(NEW_PASSWORD);
    await ui.page.getByRole('button', { name: 'Change password' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'Password changed.' }).waitFor();
    const login = await fetch(`${ui.stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN.email, password: NEW_PASSWORD }),
    });
    assert.equal(login.status, 200, 'the new password signs in');
    noConsoleErrors();
  });

  it('creates an API key (shown once) and a Slack endpoint from Settings', async () => {
    await ui.page.getByRole('link', { name: 'Settings' }).click();
    await ui.page.getByRole('link', { name: 'API keys' }).click();
    await ui.page.getByLabel('Key name').fill('browser test backend');
    await ui.page.getByLabel('Key role').selectOption('admin');
    await ui.page.getByRole('button', { name: 'Create key' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Your new API key' });
    const key = await dialog.getByLabel('New API key').inputValue();
    assert.match(key, /^bf_/);
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await ui.page.getByRole('cell', { name: 'browser test backend', exact: true }).waitFor();
    call = apiClient(ui.stack.url, key);
    const me = await call<{ principal: { kind: string; role: string } }>('GET', '/auth/session');
    assert.equal(me.status, 200);
    assert.deepEqual([me.body.principal.kind, me.body.principal.role], ['api_key', 'admin']);

    await ui.page.getByRole('link', { name: 'Slack' }).click();
    await ui.page.getByLabel('Endpoint name').fill('ops channel');
    await ui.page.getByLabel('Webhook URL').fill(`${ui.stack.slack.url}/services/T000/B000/XYZ`);
    await ui.page.getByRole('button', { name: 'Add endpoint' }).click();
    await ui.page.getByRole('cell', { name: 'ops channel', exact: true }).waitFor();
    const before = ui.stack.slack.received.length;
    await ui.page.getByRole('button', { name: 'Send test to ops channel' }).click();
    await ui.page
      .getByRole('status')
      .filter({ hasText: 'Test message to ops channel: Slack accepted it (HTTP 200' })
      .waitFor();
    assert.equal(ui.stack.slack.received.length, before + 1);
    assert.match(ui.stack.slack.received.at(-1)?.body ?? '', /Billflow test message/);
    ui.stack.slack.respond = [403];
    await ui.page.getByRole('button', { name: 'Send test to ops channel' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'It did not arrive: HTTP 403' }).waitFor();

    await ui.page.getByRole('link', { name: 'Notifications' }).click();
    const toggle = ui.page.getByLabel('Slack for Payment succeeded');
    assert.equal(await toggle.isChecked(), true);
    await toggle.uncheck();
    await eventually(async () => {
      const s = await call<{ slack: boolean; customized: boolean }>('GET', '/notification-settings/payment_succeeded');
      return s.body.slack === false && s.body.customized;
    }, 'the setting saved');
    noConsoleErrors();
  });

  it('a subscription created while SMTP is down fails at send_customer_email; the list, the run and the bell say so', async () => {
    assert.equal(
      (await call('POST', '/plans', { code: 'pro', name: 'Pro', amount: 2900, currency: 'EUR', interval: 'month' }))
        .status,
      201,
    );
    const customer = await call<{ customer: { id: string } }>('POST', '/customers', {
      email: 'ada@example.com',
      name: 'Ada',
    });
    assert.equal(customer.status, 201);
    await ui.stack.smtp.stop();
    const created = await call<{ workflow_run_id: string }>('POST', '/subscriptions', {
      customer_id: customer.body.customer.id,
      plan_code: 'pro',
    });
    assert.equal(created.status, 201);
    failedRunId = created.body.workflow_run_id;

    // The email step retries with backoff; the first wait is cut short from the run page ("Run now").
    await waitForRun(failedRunId, (r) => r.activity === 'retrying', 'the first email retry');
    await ui.page.goto(`/runs/${failedRunId}`);
    await ui.page.getByRole('button', { name: 'Run now' }).click();
    const runNow = ui.page.getByRole('dialog', { name: 'Run now' });
    await runNow.getByText('send_customer_email runs now').waitFor();
    await runNow.getByLabel('Reason').fill('SMTP outage drill: do not wait');
    await runNow.getByRole('button', { name: 'Run now' }).click();
    await runNow
      .getByRole('status')
      .filter({ hasText: /send_customer_email (failed again|finished)/ })
      .waitFor();
    await runNow.getByRole('button', { name: 'Close', exact: true }).click();
    // The remaining retries, through the API.
    await eventually(async () => {
      const r = (await call<Run>('GET', `/workflows/${failedRunId}`)).body;
      if (r.status === 'failed') return r;
      if (r.activity === 'retrying') await call('POST', `/workflows/${failedRunId}/run-now`, { reason: 'drill' });
      return undefined;
    }, 'the run to fail after its retries');

    await ui.page.goto('/workflows/subscription_creation');
    const row = ui.page.locator(`tr[data-run-id="${failedRunId}"]`);
    await row.getByText('Failed at send_customer_email').waitFor();
    await row.getByText('ada@example.com', { exact: true }).waitFor();
    await ui.page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: /Subscription created/ })
      .getByLabel('1 failed')
      .waitFor();
    await ui.b.shot('workflows-list-failed');
    // The alert also went to the Slack endpoint added from Settings.
    await eventually(async () => ui.stack.slack.received.find((r) => r.body.includes(failedRunId)), 'the Slack alert');

    // The bell has the alert; it links to the run.
    const bell = ui.page.getByRole('button', { name: 'Alerts, 1 unread' });
    await bell.click();
    const alerts = ui.page.getByRole('region', { name: 'Failure alerts' });
    await alerts.getByRole('link').first().click();
    await ui.page.waitForURL(`**/runs/${failedRunId}`);
    await ui.page.getByRole('button', { name: 'Alerts, none unread' }).waitFor();

    await ui.page.getByText('Failed at send_customer_email').first().waitFor();
    const step = ui.page.getByRole('listitem', { name: /send_customer_email, Failed/ });
    await step.getByText('5 attempts').waitFor();
    const attemptsTable = step.getByRole('table', { name: 'Attempts of send_customer_email' });
    assert.match(await attemptsTable.innerText(), /ECONNREFUSED|connect/i, 'the attempts show the SMTP error');
    await step.getByText('Stack trace').first().click();
    await ui.b.shot('run-failed');
    noConsoleErrors();
  });

  it('restart from the failed step once SMTP is back: the run completes and earlier steps ran once', async () => {
    await ui.stack.smtp.restart();
    await ui.page.goto(`/runs/${failedRunId}`);
    // Keyboard: the dialog takes focus (the reason field) and Escape closes it without acting.
    await ui.page.getByRole('button', { name: 'Restart from failed step' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Restart from failed step' });
    await dialog.getByLabel('Reason').waitFor();
    assert.equal(await dialog.locator('textarea:focus').count(), 1, 'the reason field has the focus');
    await ui.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await call<Run>('GET', `/workflows/${failedRunId}`)).body.status, 'failed');
    await ui.page.getByRole('button', { name: 'Restart from failed step' }).click();
    await dialog.getByText('Runs again: send_customer_email → send_internal_notice.').waitFor();
    await dialog
      .getByText('Not run again (already done): create_subscription_record, sync_payment_provider, update_stats.')
      .waitFor();
    await dialog.getByLabel('Reason').fill('SMTP is back up');
    await dialog.getByRole('button', { name: 'Restart from failed step' }).click();
    await dialog.getByRole('status').filter({ hasText: 'from Failed to' }).waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();

    await ui.page.getByRole('heading', { name: /Subscription created\s*Completed/ }).waitFor({ timeout: 30_000 });
    for (const name of ['create_subscription_record', 'sync_payment_provider', 'update_stats']) {
      await ui.page
        .getByRole('listitem', { name: new RegExp(`${name}, Completed`) })
        .getByText('1 attempt', { exact: true })
        .waitFor();
    }
    const run = (await call<Run>('GET', `/workflows/${failedRunId}`)).body;
    assert.equal(run.status, 'completed');
    for (const s of run.steps.slice(0, 3)) assert.equal(s.attempts.length, 1, `${s.name} ran once`);
    await eventually(
      async () => ui.stack.smtp.received.find((m) => m.to.includes('ada@example.com')),
      'the welcome email',
    );
    await ui.page.getByRole('region', { name: 'Audit trail' }).getByText('SMTP is back up').waitFor();
    noConsoleErrors();
  });

  it('skip a failed provider refund: the dialog says what it means, the run completes, the refund is not made', async () => {
    const customer = await call<{ customer: { id: string } }>('POST', '/customers', {
      email: 'lin@example.com',
      name: 'Lin',
    });
    const payment = await call<{ payment: { id: string }; workflow_run_id: string }>('POST', '/payments', {
      customer_id: customer.body.customer.id,
      amount: 1200,
      currency: 'EUR',
      status: 'succeeded',
      provider_reference: 'sbx_ch_unknown_to_the_sandbox',
    });
    assert.equal(payment.status, 201);
    await waitForRun(payment.body.workflow_run_id, (r) => r.status === 'completed', 'the payment run');
    const refund = await call<{ refund: { id: string }; workflow_run_id: string }>('POST', '/refunds', {
      payment_id: payment.body.payment.id,
    });
    assert.equal(refund.status, 201);
    const runId = refund.body.workflow_run_id;
    await waitForRun(runId, (r) => r.status === 'failed', 'the refund run to fail at the provider');

    await ui.page.goto(`/runs/${runId}`);
    await ui.page.getByRole('button', { name: 'Skip failed step' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Skip failed step' });
    await dialog.getByText('execute_provider_refund is marked skipped with your reason and does not run.').waitFor();
    await dialog.getByText(/The refund is recorded as not made \(cancelled\)/).waitFor();
    await dialog
      .getByText('Then the run goes on with: update_stats → send_customer_email → send_internal_notice.')
      .waitFor();
    await ui.b.shot('skip-provider-refund');
    await dialog.getByLabel('Reason').fill('charge unknown at the provider');
    await dialog.getByRole('button', { name: 'Skip failed step' }).click();
    await dialog.getByRole('status').filter({ hasText: 'from Failed to' }).waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();

    const run = await waitForRun(runId, (r) => r.status === 'completed', 'the run to complete after the skip');
    assert.deepEqual(
      run.steps.map((s) => [s.name, s.status]),
      [
        ['record_refund', 'completed'],
        ['execute_provider_refund', 'skipped'],
        ['update_stats', 'completed'],
        ['send_customer_email', 'completed'],
        ['send_internal_notice', 'completed'],
      ],
    );
    const stored = await call<{ status: string }>('GET', `/refunds/${refund.body.refund.id}`);
    assert.equal(stored.body.status, 'cancelled');
    const paid = await call<{ refunded_amount: number }>('GET', `/payments/${payment.body.payment.id}`);
    assert.equal(paid.body.refunded_amount, 0);
    assert.equal(ui.stack.smtp.received.filter((m) => m.to.includes('lin@example.com')).length, 1, 'the receipt only');
    noConsoleErrors();
  });

  it('bulk restart: dry-run count, reason, progress to the end', async () => {
    // Mail to these customers is refused (550, permanent): their runs fail at once.
    ui.stack.smtp.rejectRecipient = (address) => (address.startsWith('bulk') ? 550 : undefined);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const c = await call<{ customer: { id: string } }>('POST', '/customers', { email: `bulk${n}@example.com` });
      const s = await call<{ workflow_run_id: string }>('POST', '/subscriptions', {
        customer_id: c.body.customer.id,
        plan_code: 'pro',
      });
      ids.push(s.body.workflow_run_id);
    }
    for (const id of ids) await waitForRun(id, (r) => r.status === 'failed', `run ${id} to fail`);
    ui.stack.smtp.rejectRecipient = () => undefined;

    await ui.page.goto('/workflows/subscription_creation?status=failed');
    for (const id of ids)
      await ui.page.locator(`tr[data-run-id="${id}"]`).getByText('Failed at send_customer_email').waitFor();
    await ui.page.getByRole('link', { name: 'Bulk restart…' }).click();
    await ui.page.getByLabel('Failed step').selectOption('send_customer_email');
    // A 550 is permanent: such runs are left out until the operator says the cause was fixed.
    await ui.page
      .getByRole('status')
      .filter({ hasText: '0 failed runs match. 3 more failed with a permanent error and are left out.' })
      .waitFor();
    await ui.page.getByLabel('Include runs that failed with a permanent error').check();
    await ui.page.getByRole('status').filter({ hasText: '3 failed runs match.' }).waitFor();
    const listed = ui.page.getByRole('table', { name: 'Runs to restart' });
    for (const id of ids) await listed.locator(`tr[data-run-id="${id}"]`).waitFor();
    await ui.page.getByLabel('Reason').fill('Mail relay accepted the bulk addresses again');
    await ui.page.getByRole('button', { name: 'Restart 3 runs' }).click();
    await ui.page
      .getByRole('status')
      .filter({ hasText: 'Finished: 3 completed, 0 failed again.' })
      .waitFor({ timeout: 60_000 });
    assert.equal(
      await ui.page.getByRole('progressbar', { name: 'Bulk restart progress' }).getAttribute('aria-valuenow'),
      '100',
    );
    await ui.b.shot('bulk-restart-done');
    for (const id of ids) assert.equal((await call<Run>('GET', `/workflows/${id}`)).body.status, 'completed');
    const { rows } = await ui.db.query<{ filter: { include_permanent: boolean }; matched: number }>(
      `SELECT filter, matched FROM workflow_operations ORDER BY created_at DESC LIMIT 1`,
    );
    assert.equal(rows[0]?.matched, 3);
    assert.equal(
      rows[0]?.filter.include_permanent,
      true,
      'the operation records that permanent failures were asked for',
    );
    noConsoleErrors();
  });

  it('template editor: the preview follows the edit and the next email carries it', async () => {
    await ui.page.goto('/settings/templates');
    await ui.page.getByLabel('Template', { exact: true }).selectOption('subscription_created/email/en');
    const subject = ui.page.getByLabel('Subject');
    await subject.waitFor();
    await subject.fill('Your Billflow subscription is live (edited in the browser)');
    await ui.page.getByLabel('Body', { exact: true }).fill('Hello from the edited template, {{ customer.email }}.');
    await ui.page.getByTestId('preview-subject').filter({ hasText: 'is live (edited in the browser)' }).waitFor();
    await ui.page.getByTestId('preview-body').filter({ hasText: 'Hello from the edited template,' }).waitFor();
    await ui.b.shot('template-editor');
    await ui.page.getByRole('button', { name: 'Save template' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();

    const c = await call<{ customer: { id: string } }>('POST', '/customers', { email: 'grace@example.com' });
    const s = await call<{ workflow_run_id: string }>('POST', '/subscriptions', {
      customer_id: c.body.customer.id,
      plan_code: 'pro',
    });
    await waitForRun(s.body.workflow_run_id, (r) => r.status === 'completed', 'the subscription run');
    const mail = await eventually(
      async () => ui.stack.smtp.received.find((m) => m.to.includes('grace@example.com')),
      'the email',
    );
    assert.equal(mail.mail.subject, 'Your Billflow subscription is live (edited in the browser)');
    assert.match(mail.mail.text ?? '', /Hello from the edited template, grace@example\.com\./);
    noConsoleErrors();
  });

  it('dashboard and customers render with data', async () => {
    await ui.page.goto('/');
    await ui.page.getByRole('region', { name: 'Runs per hour' }).getByRole('img').waitFor();
    await ui.b.shot('dashboard');
    await ui.page.getByRole('link', { name: 'Customers' }).click();
    await ui.page.getByLabel('Search by email').fill('ada@example.com');
    await ui.page.getByRole('button', { name: 'Search' }).click();
    await ui.page.getByRole('link', { name: 'ada@example.com' }).click();
    await ui.page.getByRole('region', { name: 'Subscriptions' }).getByRole('link').first().waitFor();
    await ui.page.getByRole('region', { name: 'Workflow runs' }).getByRole('link', { name: failedRunId }).waitFor();
    await ui.b.shot('customer');
    await ui.page.setViewportSize({ width: 800, height: 900 });
    await ui.page.goto(`/runs/${failedRunId}`);
    await ui.page.getByRole('button', { name: 'Menu' }).click();
    await ui.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    await ui.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await ui.b.shot('dashboard-800px');
    await ui.page.setViewportSize({ width: 1280, height: 860 });
    noConsoleErrors();
  });

  it('a customer_support user sees no Workflows, and the API answers 403', async () => {
    await ui.page.goto('/settings/users');
    await ui.page.getByLabel('Email', { exact: true }).fill('support@example.com');
    await ui.page.getByLabel('Role', { exact: true }).selectOption('customer_support');
    await ui.page.getByRole('button', { name: 'Invite' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Invitation created' });
    const inviteUrl = await dialog.getByLabel('Invitation link').inputValue();
    assert.match(inviteUrl, /\/invitation\?token=/);
    await dialog.getByRole('button', { name: 'Done' }).click();

    const support = await ui.b.newPage();
    await support.goto(inviteUrl.replace(ui.stack.url, ''));
    await support.getByLabel('Password', { exact: true }).fill('support passphrase 123');
    await support.getByLabel('Confirm password').fill('support passphrase 123');
    await support.getByRole('button', { name: 'Set password and sign in' }).click();
    await support.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const nav = support.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Customers' }).waitFor();
    assert.equal(await nav.getByText('Workflows').count(), 0, 'no Workflows section');
    assert.equal(await nav.getByRole('link', { name: /Subscription created|Bulk restart/ }).count(), 0);
    assert.equal(await support.getByRole('region', { name: 'Runs per hour' }).count(), 0);

    await support.goto('/workflows/subscription_creation');
    await support.getByRole('alert').filter({ hasText: 'Not allowed' }).waitFor();
    const refused = await support.request.get('/api/v1/workflows');
    assert.equal(refused.status(), 403);
    const allowed = await support.request.get('/api/v1/customers');
    assert.equal(allowed.status(), 200);
    noConsoleErrors();
  });

  it('run list: customer email filter and keyset paging, state kept in the URL', async () => {
    // 26 runs of this type in all: two pages of 25.
    const c = await call<{ customer: { id: string } }>('POST', '/customers', { email: 'many@example.com' });
    const extra: string[] = [];
    for (let i = 0; i < 21; i++) {
      const s = await call<{ workflow_run_id: string }>('POST', '/subscriptions', {
        customer_id: c.body.customer.id,
        plan_code: 'pro',
      });
      extra.push(s.body.workflow_run_id);
    }
    await ui.page.goto('/workflows/subscription_creation');
    const rows = ui.page.getByRole('table', { name: 'Subscription created runs' }).locator('tbody tr');
    await eventually(async () => (await rows.count()) === 25, 'a full first page');
    const firstPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run-id')));
    await ui.page.getByRole('button', { name: 'Next →' }).click();
    await eventually(async () => (await rows.count()) === 1, 'the second page');
    const secondPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run-id')));
    assert.equal(firstPage.includes(secondPage[0] ?? ''), false, 'no run on both pages');
    assert.match(ui.page.url(), /cursor=/);
    await ui.page.reload();
    await eventually(async () => (await rows.count()) === 1, 'the second page after a reload');
    await ui.page.getByRole('button', { name: '← Previous' }).click();
    await eventually(async () => (await rows.count()) === 25, 'the first page again');
    assert.equal(await ui.page.getByRole('button', { name: '← Previous' }).isDisabled(), true);

    await ui.page.getByLabel('Customer email').fill('grace@example.com');
    await ui.page.getByRole('button', { name: 'Search' }).click();
    await eventually(async () => (await rows.count()) === 1, 'only the runs of grace@example.com');
    await rows.getByText('grace@example.com', { exact: true }).waitFor();
    assert.match(ui.page.url(), /email=grace%40example\.com/);
    await ui.page.getByLabel('Status').selectOption('failed');
    await ui.page.getByText('No runs match these filters.').waitFor();
    noConsoleErrors();
  });

  it('manual trigger: field errors from the API, then a run started for an existing record', async () => {
    const found = await call<{ items: { id: string }[] }>('GET', '/customers?email=many%40example.com');
    const customerId = found.body.items[0]?.id ?? '';
    const detail = await call<{ subscriptions: { id: string }[] }>('GET', `/customers/${customerId}`);
    const subscriptionId = detail.body.subscriptions[0]?.id ?? '';
    assert.match(subscriptionId, /^sub_/);

    await ui.page.getByRole('link', { name: 'Start a workflow' }).click();
    await ui.page.getByLabel('Workflow type').selectOption('payment_success');
    await ui.page.getByLabel('Record id').fill(subscriptionId);
    await ui.page.getByLabel('Reason').fill('redo what the outage missed');
    await ui.page.getByRole('button', { name: 'Start workflow' }).click();
    await ui.page.locator('.field-error').filter({ hasText: 'pay_' }).waitFor();
    // That 400 is the API refusing a sub_ id for a payment workflow, shown under the field.
    const expected = ui.b.errors.filter((e) => e.includes('status of 400') && e.includes('/api/v1/workflows'));
    assert.equal(expected.length, 1);
    ui.b.errors.splice(0, ui.b.errors.length, ...ui.b.errors.filter((e) => !expected.includes(e)));

    await ui.page.getByLabel('Workflow type').selectOption('subscription_cancellation');
    await ui.page.getByRole('button', { name: 'Start workflow' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'Started:' }).getByRole('link').click();
    await ui.page.getByRole('heading', { name: /Subscription cancelled/ }).waitFor();
    await ui.page.getByRole('link', { name: `Subscription ${subscriptionId}` }).click();
    await ui.page
      .getByRole('heading', { name: /Subscription/ })
      .getByText(subscriptionId)
      .waitFor();
    await ui.page.getByRole('link', { name: customerId }).click();
    await ui.page.getByRole('heading', { name: /many@example\.com/ }).waitFor();
    noConsoleErrors();
  });

  it('serves the SPA for deep links and never shadows the API', async () => {
    const deep = await fetch(`${ui.stack.url}/runs/run_doesnotexist`);
    assert.equal(deep.status, 200);
    assert.equal(deep.headers.get('cache-control'), 'no-cache');
    assert.match(await deep.text(), /<div id="root">/);
    const api404 = await fetch(`${ui.stack.url}/api/v1/no-such-route`);
    assert.equal(api404.status, 404);
    assert.match(api404.headers.get('content-type') ?? '', /problem\+json/);
    const health = await fetch(`${ui.stack.url}/healthz`);
    assert.equal(health.status, 200);
    const html = await (await fetch(`${ui.stack.url}/`)).text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset);
    const js = await fetch(`${ui.stack.url}${asset}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await fetch(`${ui.stack.url}/assets/missing-123.js`)).status, 404);
  });
});
