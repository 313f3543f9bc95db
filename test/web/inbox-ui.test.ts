// The failed-runs inbox and the header search in Chromium against a real Billflow: runs fail at
// the customer email because the SMTP server refuses "bounce" addresses (a permanent 550), across
// two workflow types; the inbox must list exactly the failed runs the database holds, page, sort
// and size them from the URL, and the one search box must find runs, records and customers.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { axeViolations } from './axe.ts';
import { browserSession, describeInChromium, eventually, signedInPage } from './harness.ts';

const PASSWORD = 'correct horse battery staple';
const MANAGER = 'manager@example.com';
const SUPPORT = 'support@example.com';
/** Bounced customers; each has a failed subscription run and a failed payment run: 28 in all. */
const BOUNCED = 14;

describeInChromium('failed-runs inbox and search in Chromium', () => {
  const ui = browserSession({
    users: [
      { email: MANAGER, password: PASSWORD, role: 'account_manager' },
      { email: SUPPORT, password: PASSWORD, role: 'customer_support' },
    ],
    apiKey: true,
  });
  let subscriptionId = '';
  let subscriptionRun = '';
  let carlId = '';

  /** The failed runs as the database has them, in the inbox's default order. */
  const failedInDb = async (order: 'DESC' | 'ASC' = 'DESC') =>
    (
      await ui.db.query<{ id: string }>(
        `SELECT id FROM workflow_runs WHERE status = 'failed' ORDER BY failed_at ${order}, id ${order}`,
      )
    ).rows.map((r) => r.id);

  before(async () => {
    const call = ui.call;
    await call('POST', '/plans', { code: 'pro', name: 'Pro', amount: 2900, currency: 'EUR', interval: 'month' });
    ui.stack.smtp.rejectRecipient = (address) => (address.startsWith('bounce') ? 550 : undefined);
    const subscribe = async (email: string, name?: string) => {
      const c = await call<{ customer: { id: string } }>('POST', '/customers', { email, ...(name ? { name } : {}) });
      assert.equal(c.status, 201);
      const s = await call<{ subscription: { id: string }; workflow_run_id: string }>('POST', '/subscriptions', {
        customer_id: c.body.customer.id,
        plan_code: 'pro',
      });
      assert.equal(s.status, 201);
      return { customerId: c.body.customer.id, subscriptionId: s.body.subscription.id, runId: s.body.workflow_run_id };
    };
    const carl = await subscribe('carl.jones@example.com', 'Carl Jones');
    carlId = carl.customerId;
    subscriptionId = carl.subscriptionId;
    subscriptionRun = carl.runId;
    for (let i = 0; i < BOUNCED; i++) {
      const { customerId } = await subscribe(`bounce${i}@example.com`);
      const p = await call('POST', '/payments', {
        customer_id: customerId,
        amount: 1200,
        currency: 'EUR',
        status: 'succeeded',
      });
      assert.equal(p.status, 201);
    }
    await eventually(async () => (await failedInDb()).length === BOUNCED * 2, `${BOUNCED * 2} failed runs`);
  });

  /** A signed-in page at this width whose console errors fail the test. */
  const openAt = (width: number, email: string) => signedInPage(ui, { email, password: PASSWORD }, { width });

  const rowIds = (p: Page) =>
    p
      .getByRole('table', { name: 'Failed runs' })
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id') ?? ''));

  const search = async (p: Page, text: string) => {
    const box = p.getByRole('searchbox', { name: 'Search runs, records and customers' });
    await box.fill(text);
    await box.press('Enter');
    await p.getByRole('heading', { name: `Search: “${text}”`, level: 1 }).waitFor();
  };

  for (const width of [1280, 390]) {
    it(`the inbox lists the failed runs of every type, pages, sorts and sizes at ${width} px`, async () => {
      const { p, errors, close } = await openAt(width, MANAGER);
      if (width < 960) await p.getByRole('button', { name: 'Menu' }).click();
      await p
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: /Failed runs/ })
        .click();
      await p.getByRole('heading', { name: 'Failed runs', level: 1 }).waitFor();
      await p.getByText(`${BOUNCED * 2} failed runs · showing 1–25`).waitFor();

      const newest = await failedInDb('DESC');
      assert.deepEqual(await rowIds(p), newest.slice(0, 25), 'page 1: the 25 newest failures');
      const types = await p
        .getByRole('table', { name: 'Failed runs' })
        .locator('tbody tr td:nth-child(2)')
        .allInnerTexts();
      assert.ok(new Set(types).size >= 2, `runs of several types: ${[...new Set(types)].join(', ')}`);
      const failedAt = await p
        .getByRole('table', { name: 'Failed runs' })
        .locator('tbody tr td:nth-child(7)')
        .allInnerTexts();
      assert.ok(
        failedAt.length === 25 && failedAt.every((t) => t !== '—'),
        `each row says when it failed: ${failedAt.join(', ')}`,
      );

      await p.getByRole('button', { name: 'Next →' }).click();
      await p.getByText(`${BOUNCED * 2} failed runs · showing 26–28`).waitFor();
      assert.deepEqual(await rowIds(p), newest.slice(25), 'page 2: the rest');
      assert.equal(new URL(p.url()).searchParams.has('cursor'), true, 'the page is in the URL');
      await p.getByRole('button', { name: '← Previous' }).click();
      await p.getByText('showing 1–25').waitFor();

      await p.getByLabel('Sort').selectOption('failed_asc');
      await p.getByLabel('Per page').selectOption('50');
      await p.getByText(`${BOUNCED * 2} failed runs · showing 1–28`).waitFor();
      assert.deepEqual(await rowIds(p), await failedInDb('ASC'), 'oldest failure first, all on one page');
      const url = new URL(p.url());
      assert.deepEqual([url.searchParams.get('sort'), url.searchParams.get('limit')], ['failed_asc', '50']);
      assert.equal(await p.getByRole('button', { name: 'Next →' }).count(), 0, 'no second page');

      // The filters survive a reload: they live in the URL.
      await p.reload();
      await p.getByText('showing 1–28').waitFor();
      assert.equal(await p.getByLabel('Sort').inputValue(), 'failed_asc');

      await p.getByLabel('Workflow').selectOption('payment_success');
      await p.getByText(`${BOUNCED} failed runs of`).waitFor();
      const payments = (
        await ui.db.query<{ id: string }>(
          `SELECT id FROM workflow_runs WHERE status = 'failed' AND type = 'payment_success'
           ORDER BY failed_at, id`,
        )
      ).rows.map((r) => r.id);
      assert.deepEqual(await rowIds(p), payments);

      const first = payments[0] ?? '';
      await p.getByRole('link', { name: first }).click();
      await p.waitForURL(`**/runs/${first}`);
      await p.getByText('Failed at send_customer_email').first().waitFor();

      await p.goto('/failed');
      await p.getByRole('table', { name: 'Failed runs' }).waitFor();
      const found = await axeViolations(p);
      await close();
      assert.deepEqual(found, [], 'axe on the inbox');
      assert.deepEqual(errors, [], 'console errors');
    });

    it(`the header search finds a run, a record and a customer by part of the email at ${width} px`, async () => {
      const { p, errors, close } = await openAt(width, MANAGER);

      await search(p, subscriptionRun);
      await p.getByText('Read as a run id.').waitFor();
      await p.getByRole('table', { name: 'Runs found' }).locator(`tr[data-run-id="${subscriptionRun}"]`).waitFor();

      await search(p, subscriptionId);
      await p.getByText('Read as a record id.').waitFor();
      await p.getByRole('table', { name: 'Runs found' }).locator(`tr[data-run-id="${subscriptionRun}"]`).waitFor();
      await p.getByRole('region', { name: 'Record' }).getByRole('link', { name: subscriptionId }).click();
      await p.waitForURL(`**/records/subscription/${subscriptionId}`);

      // Part of an address: no 400, the customer and their runs.
      await search(p, 'carl');
      await p.getByText('Read as the start of an email address or a name.').waitFor();
      await p.getByRole('table', { name: 'Runs found' }).locator(`tr[data-run-id="${subscriptionRun}"]`).waitFor();
      await p.getByRole('region', { name: 'Customers' }).getByRole('link', { name: 'carl.jones@example.com' }).click();
      await p.waitForURL(`**/customers/${carlId}`);

      await search(p, carlId);
      await p.getByText('Read as a customer id.').waitFor();
      await p.getByRole('table', { name: 'Runs found' }).getByRole('link', { name: subscriptionRun }).click();
      await p.waitForURL(`**/runs/${subscriptionRun}`);

      await search(p, 'nobody-here');
      await p.getByText('Nothing found for “nobody-here”.').waitFor();
      await close();
      assert.deepEqual(errors, [], 'console errors');
    });
  }

  it('customer_support searches customers and records only: the box says so, no runs are shown', async () => {
    const { p, errors, close } = await openAt(1280, SUPPORT);
    const box = p.getByRole('searchbox', { name: 'Search customers and records' });
    await box.fill('Carl');
    await box.press('Enter');
    await p.getByRole('region', { name: 'Customers' }).getByRole('link', { name: 'carl.jones@example.com' }).waitFor();
    await p.getByText(/runs are for account managers and above/).waitFor();
    assert.equal(await p.getByRole('table', { name: 'Runs found' }).count(), 0);
    assert.equal(await p.getByRole('link', { name: /Failed runs/ }).count(), 0, 'no inbox in the menu');
    await close();
    assert.deepEqual(errors, [], 'console errors');
  });
});
