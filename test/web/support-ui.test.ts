// customer_support's work in Chromium against a real Billflow: create a customer, update the card
// on file, charge and mark invoices paid, refund, record a payment, cancel a subscription. Each
// form shows its errors once next to the field, changes nothing on bad input, and shows the run
// it started; the database holds what the screen says.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { browserSession, describeInChromium, eventually, signIn } from './harness.ts';

const SUPPORT = { email: 'support@example.com', password: 'correct horse battery staple' };
const MANAGER = { email: 'manager@example.com', password: 'correct horse battery staple' };

describeInChromium('support screens in Chromium', () => {
  const ui = browserSession({
    users: [
      { ...SUPPORT, role: 'customer_support' },
      { ...MANAGER, role: 'account_manager' },
    ],
    apiKey: true,
  });

  before(async () => {
    assert.equal(
      (await ui.call('POST', '/plans', { code: 'pro', name: 'Pro', amount: 2900, currency: 'EUR', interval: 'month' }))
        .status,
      201,
    );
  });

  /** The 400s these tests provoke on purpose are answers the page shows, not faults. */
  const noConsoleErrors = () =>
    assert.deepEqual(
      ui.b.errors.filter((e) => !e.includes('status of 400')),
      [],
      'console errors in the browser',
    );

  const one = async <T>(sql: string, params: unknown[]): Promise<T> => {
    const { rows } = await ui.db.query(sql, params);
    assert.equal(rows.length, 1, sql);
    return rows[0] as T;
  };

  const result = () => ui.page.getByRole('status', { name: 'Result' });

  it('customer_support creates a customer, sets the card, charges, refunds, marks paid, records and cancels', async () => {
    const db = ui.db;
    await signIn(ui.page, SUPPORT);
    await ui.page.getByRole('link', { name: 'Customers' }).click();
    await ui.page.getByRole('button', { name: 'New customer' }).click();
    let dialog = ui.page.getByRole('dialog', { name: 'New customer' });
    await dialog.getByLabel('Email').fill('dana-at-example.com');
    await dialog.getByRole('button', { name: 'Create customer' }).click();
    // The error once, next to its field; nothing stored.
    const emailField = dialog.locator('.field', { has: ui.page.getByLabel('Email') });
    await emailField.locator('.field-error').waitFor();
    assert.equal(await dialog.getByRole('alert').count(), 0, 'no second copy of the field error');
    assert.equal(await dialog.getByText('400').count(), 0, 'no HTTP code');
    assert.equal((await db.query('SELECT 1 FROM customers')).rows.length, 0);

    await dialog.getByLabel('Email').fill('dana@example.com');
    await dialog.getByLabel('Name (optional)').fill('Dana');
    await dialog.getByLabel('Currency (optional)').fill('eur');
    await dialog.getByRole('button', { name: 'Create customer' }).click();
    await ui.page.getByRole('heading', { name: /Dana/ }).waitFor();
    await result().getByText('Customer created.').waitFor();
    const customer = await one<{ id: string; currency: string; payment_method: string | null }>(
      `SELECT id, currency, payment_method FROM customers WHERE email = 'dana@example.com'`,
      [],
    );
    assert.equal(customer.currency, 'EUR');
    assert.equal(customer.payment_method, null);

    // The card on file: a malformed id is refused next to the field, then the right one saved.
    await ui.page.getByRole('button', { name: 'Update card on file' }).click();
    dialog = ui.page.getByRole('dialog', { name: 'Update card on file' });
    await dialog.getByLabel('New payment method').fill('pm card');
    await dialog.getByRole('button', { name: 'Save card' }).click();
    await dialog.locator('.field-error').waitFor();
    assert.equal(await dialog.getByRole('alert').count(), 0);
    assert.equal(
      (await one<{ payment_method: null }>('SELECT payment_method FROM customers', [])).payment_method,
      null,
    );
    await dialog.getByLabel('New payment method').fill('pm_card_ok');
    await dialog.getByRole('button', { name: 'Save card' }).click();
    await result()
      .getByText(/Card on file is now pm_card_ok/)
      .waitFor();
    assert.equal(
      (await one<{ payment_method: string }>('SELECT payment_method FROM customers', [])).payment_method,
      'pm_card_ok',
    );

    // Records made elsewhere: a subscription and two invoices.
    const sub = await ui.call<{ subscription: { id: string }; workflow_run_id: string }>('POST', '/subscriptions', {
      customer_id: customer.id,
      plan_code: 'pro',
    });
    assert.equal(sub.status, 201);
    const invoice = async (description: string, amount: number) => {
      const r = await ui.call<{ invoice: { id: string; number: string }; workflow_run_id: string }>(
        'POST',
        '/invoices',
        {
          customer_id: customer.id,
          currency: 'EUR',
          lines: [{ description, amount }],
        },
      );
      assert.equal(r.status, 201);
      return r.body;
    };
    const first = await invoice('Setup', 2000);
    const second = await invoice('Consulting', 3000);
    await eventually(async () => {
      const { rows } = await db.query(`SELECT 1 FROM workflow_runs WHERE status = 'in_progress' AND id = ANY($1)`, [
        [first.workflow_run_id, second.workflow_run_id],
      ]);
      return rows.length === 2;
    }, 'both invoices awaiting payment');

    // Charge the first invoice on the card on file.
    await ui.page.reload();
    await ui.page.getByRole('button', { name: `Charge ${first.invoice.number}` }).click();
    dialog = ui.page.getByRole('dialog', { name: 'Charge invoice' });
    await dialog.getByText('Leave empty to use the card on file (pm_card_ok).').waitFor();
    await dialog.getByRole('button', { name: 'Charge now' }).click();
    await result()
      .getByText(/Charge of €20\.00 for .* succeeded\./)
      .waitFor();
    await result().getByText('Completed', { exact: true }).waitFor();
    const charged = await one<{ id: string; status: string; amount: number }>(
      'SELECT id, status, amount FROM payments WHERE invoice_id = $1',
      [first.invoice.id],
    );
    assert.deepEqual([charged.status, charged.amount], ['succeeded', 2000]);
    const runId = await result().locator('.mono').innerText();
    assert.match(runId, /^run_/);
    // customer_support cannot open runs: the id is shown, not a link to a page that refuses them.
    assert.equal(await result().getByRole('link').count(), 0);
    assert.equal(
      (await one<{ type: string }>('SELECT type FROM workflow_runs WHERE id = $1', [runId])).type,
      'payment_success',
    );

    // Refund part of it; too much is refused next to the amount.
    await ui.page.getByRole('button', { name: `Refund ${charged.id}` }).click();
    dialog = ui.page.getByRole('dialog', { name: 'Refund payment' });
    await dialog.getByText('Paid €20.00; still refundable €20.00.').waitFor();
    await dialog.getByLabel('Amount').fill('25');
    await dialog.getByRole('button', { name: 'Refund' }).click();
    await dialog.locator('.field-error').waitFor();
    assert.equal(await dialog.getByRole('alert').count(), 0);
    assert.equal((await db.query('SELECT 1 FROM refunds')).rows.length, 0);
    await dialog.getByLabel('Amount').fill('5.00');
    await dialog.getByLabel('Reason (optional)').fill('goodwill');
    await dialog.getByRole('button', { name: 'Refund' }).click();
    await result()
      .getByText(/Refund of €5\.00 on pay_.* created\./)
      .waitFor();
    await result().getByText('Completed', { exact: true }).waitFor();
    const refund = await one<{ amount: number; status: string }>('SELECT amount, status FROM refunds', []);
    assert.deepEqual([refund.amount, refund.status], [500, 'succeeded']);

    // Mark the second invoice paid: its waiting run ends early.
    await ui.page.getByRole('button', { name: `Mark ${second.invoice.number} paid` }).click();
    dialog = ui.page.getByRole('dialog', { name: 'Mark invoice paid' });
    await dialog.getByLabel('Note (optional)').fill('bank transfer 4711');
    await dialog.getByRole('button', { name: 'Mark paid' }).click();
    await result()
      .getByText(/marked paid; its run stops waiting for payment/)
      .waitFor();
    await result().getByText(second.workflow_run_id).waitFor();
    await result()
      .getByText(/^Completed/)
      .waitFor();
    assert.equal(
      (await one<{ status: string }>('SELECT status FROM invoices WHERE id = $1', [second.invoice.id])).status,
      'paid',
    );
    assert.equal(
      (await one<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [second.workflow_run_id]))
        .status,
      'completed',
    );

    // Record a payment made elsewhere; an amount that is not one is caught before sending.
    await ui.page.getByRole('button', { name: 'Record a payment' }).click();
    dialog = ui.page.getByRole('dialog', { name: 'Record a payment' });
    await dialog.getByLabel('Amount').fill('twelve');
    await dialog.getByRole('button', { name: 'Record payment' }).click();
    await dialog.getByText('Enter an amount such as 12.50.').waitFor();
    await dialog.getByLabel('Amount').fill('12.50');
    await dialog.getByRole('button', { name: 'Record payment' }).click();
    await result().getByText('Payment of €12.50 recorded.').waitFor();
    await result().getByText('Completed', { exact: true }).waitFor();
    await one('SELECT 1 FROM payments WHERE amount = 1250 AND status = $1 AND invoice_id IS NULL', ['succeeded']);

    // Cancel the subscription now, without a refund.
    await ui.page.getByRole('button', { name: `Cancel ${sub.body.subscription.id}` }).click();
    dialog = ui.page.getByRole('dialog', { name: 'Cancel subscription' });
    await dialog.getByLabel('When').selectOption('instantly');
    await dialog.getByLabel('Refund').selectOption('none');
    await dialog.getByLabel('Reason (optional)').fill('asked by phone');
    await dialog.getByRole('button', { name: 'Cancel subscription' }).click();
    await result()
      .getByText(/Cancellation of sub_.* requested \(now, no refund\)\./)
      .waitFor();
    await result().getByText('Completed', { exact: true }).waitFor();
    assert.equal(
      (await one<{ status: string }>('SELECT status FROM subscriptions WHERE id = $1', [sub.body.subscription.id]))
        .status,
      'cancelled',
    );
    const audit = await one<{ actor: string; reason: string }>(
      `SELECT actor, reason FROM audit_log WHERE action = 'subscription.cancel'`,
      [],
    );
    assert.equal(audit.reason, 'asked by phone');
    assert.match(audit.actor, /^user:/);
    noConsoleErrors();
  });

  it('an account manager at 390 px follows the started run to its page', async () => {
    const context = await ui.b.browser.newContext({ baseURL: ui.stack.url, viewport: { width: 390, height: 844 } });
    const mobile = await context.newPage();
    const errors: string[] = [];
    mobile.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/api/v1/auth/session')) errors.push(m.text());
    });
    mobile.on('pageerror', (e) => errors.push(e.message));
    await signIn(mobile, MANAGER);
    const { rows } = await ui.db.query<{ id: string }>(`SELECT id FROM customers`);
    await mobile.goto(`/customers/${rows[0]?.id ?? ''}`);
    await mobile.getByRole('button', { name: 'Record a payment' }).click();
    const dialog = mobile.getByRole('dialog', { name: 'Record a payment' });
    await dialog.getByLabel('Amount').fill('3');
    await dialog.getByRole('button', { name: 'Record payment' }).click();
    const status = mobile.getByRole('status', { name: 'Result' });
    await status.getByText('Payment of €3.00 recorded.').waitFor();
    await status.getByRole('link', { name: /^run_/ }).click();
    await mobile.getByRole('heading', { name: /Payment succeeded/ }).waitFor();
    await one('SELECT 1 FROM payments WHERE amount = 300', []);
    await context.close();
    assert.deepEqual(errors, []);
  });
});
