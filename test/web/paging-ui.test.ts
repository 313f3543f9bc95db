// Keyset paging on the lists that page by cursor outside the run tables (customers, Stripe events,
// the email outbox, the audit log), in Chromium: Next shows the rest without repeating a row, a
// reload keeps the page, Previous comes back to the first page, and together the pages show
// exactly what the database holds.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Locator } from 'playwright-core';
import { browserSession, describeInChromium, eventually, signIn } from './harness.ts';

const ADMIN = { email: 'pages@example.com', password: 'correct horse battery staple' };
const SEEDED = 27; // one more page than the 25 rows the first three lists show

describeInChromium('keyset paging in Chromium', () => {
  const ui = browserSession({ users: [{ ...ADMIN, role: 'admin' }] });

  // The rows are there before the admin signs in.
  before(async () => {
    const db = ui.db;
    // Rows a minute apart, so their order is the order they were made.
    await db.query(
      `INSERT INTO customers (id, email, created_at, updated_at)
       SELECT 'cus_page' || lpad(i::text, 2, '0'), 'page' || lpad(i::text, 2, '0') || '@example.com',
              now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval
       FROM generate_series(1, ${SEEDED}) AS i`,
    );
    await db.query(
      `INSERT INTO stripe_events (id, type, livemode, created, received_at, last_received_at, outcome, payload)
       SELECT 'evt_page' || lpad(i::text, 2, '0'), 'customer.created', false, now(),
              now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval, 'unsupported', '{}'
       FROM generate_series(1, ${SEEDED}) AS i`,
    );
    await db.query(
      `INSERT INTO email_outbox (id, send_key, kind, from_address, to_addresses, subject, text_body, created_at)
       SELECT 'out_page' || lpad(i::text, 2, '0'), 'page:' || i, 'customer_email', 'billing@example.com',
              ARRAY['page' || lpad(i::text, 2, '0') || '@example.com'], 'Paged mail ' || lpad(i::text, 2, '0'),
              'hello', now() - (i || ' minutes')::interval
       FROM generate_series(1, ${SEEDED}) AS i`,
    );
    await db.query(
      `INSERT INTO audit_log (id, at, actor, action, target)
       SELECT 'aud_page' || lpad(i::text, 2, '0'), now() - (i || ' minutes')::interval, 'cli', 'test.paged',
              'page' || lpad(i::text, 2, '0')
       FROM generate_series(1, 55) AS i`,
    );
    await signIn(ui.page, ADMIN);
  });

  /** The `pattern` matches in the rows' text, page by page, with Next, a reload and Previous. */
  async function pageThrough(rows: Locator, perPage: number, pattern: RegExp): Promise<string[]> {
    const seen = async () => (await rows.allInnerTexts()).flatMap((text) => text.match(pattern)?.[0] ?? []).sort();
    await eventually(async () => (await rows.count()) === perPage, 'a full first page');
    const first = await seen();
    const previous = ui.page.getByRole('button', { name: '← Previous' });
    assert.equal(await previous.isDisabled(), true, 'no page before the first');
    await ui.page.getByRole('button', { name: 'Next →' }).click();
    await eventually(async () => (await rows.count()) < perPage, 'the second page');
    const second = await seen();
    assert.match(ui.page.url(), /cursor=/);
    assert.equal(await ui.page.getByRole('button', { name: 'Next →' }).isDisabled(), true, 'the last page');
    await ui.page.reload();
    await eventually(async () => (await rows.count()) === (await seen()).length && second.length > 0, 'reloaded');
    assert.deepEqual(await seen(), second, 'a reload keeps the page');
    await previous.click();
    await eventually(async () => (await rows.count()) === perPage, 'the first page again');
    assert.deepEqual(await seen(), first);
    assert.equal(await previous.isDisabled(), true);
    assert.equal(
      first.some((x) => second.includes(x)),
      false,
      'no row on both pages',
    );
    return [...first, ...second].sort();
  }

  const expected = (prefix: string, n: number, suffix = '') =>
    Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}${suffix}`).sort();

  it('customers', async () => {
    await ui.page.goto('/customers');
    const rows = ui.page.getByRole('table', { name: 'Customers' }).locator('tbody tr');
    const emails = await pageThrough(rows, 25, /page\d\d@example\.com/);
    assert.deepEqual(emails, expected('page', SEEDED, '@example.com'));
    const { rows: stored } = await ui.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM customers WHERE email LIKE 'page%'`,
    );
    assert.deepEqual(stored, [{ n: SEEDED }]);
  });

  it('Stripe events', async () => {
    await ui.page.goto('/stripe-events');
    const rows = ui.page.getByRole('table', { name: 'Stripe events' }).locator('tbody tr');
    assert.deepEqual(await pageThrough(rows, 25, /evt_page\d\d/), expected('evt_page', SEEDED));
  });

  it('the email outbox', async () => {
    await ui.page.goto('/settings/outbox');
    const rows = ui.page.getByRole('region', { name: 'Email outbox' }).locator('tbody tr');
    assert.deepEqual(await pageThrough(rows, 25, /Paged mail \d\d/), expected('Paged mail ', SEEDED));
  });

  it('the audit log, filtered by action', async () => {
    await ui.page.goto('/settings/audit?action=test.paged');
    const rows = ui.page.getByRole('region', { name: 'Audit entries' }).locator('tbody tr');
    assert.deepEqual(await pageThrough(rows, 50, /page\d\d/), expected('page', 55));
  });
});
