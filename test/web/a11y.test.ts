// Accessibility in Chromium against a real Billflow: axe-core (injected into the page) finds no
// serious or critical violation on the dashboard, the run list, the failed runs, a run and the
// settings, at desktop width and at 390 px; a skip link, focus moved to the content after each
// page change, and a user menu driven by the keyboard.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { createUser } from '../../src/http/auth/users.ts';
import { axeViolations } from './axe.ts';
import { apiClient, browserMissing, eventually, openBrowser, startStack } from './harness.ts';
import type { Browsing, Stack } from './harness.ts';

const skip = browserMissing();
const ADMIN = { email: 'ada@example.com', password: 'correct horse battery staple' };

describe('accessibility in Chromium', { skip: skip ?? false }, () => {
  let stack: Stack;
  let b: Browsing;
  let page: Page;
  let failedRun = '';

  before(async () => {
    stack = await startStack();
    b = await openBrowser(stack.url);
    page = b.page;
    const db = stack.service.db;
    const now = new Date();
    await createUser(db, { ...ADMIN, role: 'admin', now });
    const { key } = await createApiKey(db, { name: 'seed', role: 'admin', expiresAt: null, createdBy: null, now });
    const call = apiClient(stack.url, key);
    await call('POST', '/plans', { code: 'pro', name: 'Pro', amount: 2900, currency: 'EUR', interval: 'month' });
    stack.smtp.rejectRecipient = (address) => (address.startsWith('bounce') ? 550 : undefined);
    for (const email of ['ok@example.com', 'bounce@example.com']) {
      const c = await call<{ customer: { id: string } }>('POST', '/customers', { email });
      const s = await call<{ workflow_run_id: string }>('POST', '/subscriptions', {
        customer_id: c.body.customer.id,
        plan_code: 'pro',
      });
      if (email.startsWith('bounce')) failedRun = s.body.workflow_run_id;
    }
    await eventually(async () => {
      const r = await call<{ status: string }>('GET', `/workflows/${failedRun}`);
      return r.body.status === 'failed';
    }, 'a failed run');
  });

  after(async () => {
    await b?.close();
    await stack?.close();
  });

  const signIn = async (p: Page) => {
    await p.goto('/login');
    await p.getByLabel('Email').fill(ADMIN.email);
    await p.getByLabel('Password').fill(ADMIN.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Dashboard' }).waitFor();
  };

  const pages: [string, string, RegExp][] = [
    ['dashboard', '/', /Dashboard/],
    ['run list', '/workflows/subscription_creation', /Subscription created/],
    ['failed runs', '/workflows/subscription_creation?status=failed', /Subscription created/],
    ['failed runs inbox', '/failed', /Failed runs/],
    ['run detail', '', /Subscription created/],
    ['settings', '/settings/users', /Settings/],
    ['step editor', '/workflow-types/payment_success/steps', /Payment succeeded: steps/],
    ['customers', '/customers', /Customers/],
  ];

  for (const [width, height] of [
    [1280, 860],
    [390, 844],
  ] as const) {
    it(`axe finds no serious or critical violation at ${width} px`, async () => {
      const context = await b.browser.newContext({ baseURL: stack.url, viewport: { width, height } });
      const p = await context.newPage();
      const errors: string[] = [];
      p.on('console', (m) => {
        if (m.type() === 'error' && !m.location().url.endsWith('/api/v1/auth/session')) errors.push(m.text());
      });
      p.on('pageerror', (e) => errors.push(e.message));
      await signIn(p);
      const found: string[] = [];
      for (const [name, path, heading] of pages) {
        await p.goto(path || `/runs/${failedRun}`);
        await p.getByRole('heading', { name: heading, level: 1 }).waitFor();
        if (name === 'run detail') await p.getByRole('table', { name: 'Attempts of send_customer_email' }).waitFor();
        if (name === 'dashboard') await p.getByRole('region', { name: 'Runs per hour' }).waitFor();
        found.push(...(await axeViolations(p)).map((v) => `${name}: ${v}`));
      }
      await context.close();
      assert.deepEqual(found, []);
      assert.deepEqual(errors, []);
    });
  }

  it('a skip link, focus on the content after a page change, and a keyboard user menu', async () => {
    await signIn(page);
    await page.keyboard.press('Tab');
    const skipLink = page.getByRole('link', { name: 'Skip to main content' });
    assert.equal(
      await skipLink.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'the skip link comes first',
    );
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'main');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    assert.equal(
      await page.evaluate('document.activeElement && document.activeElement.id'),
      'main',
      'focus moved to the content',
    );

    const menuButton = page.getByRole('button', { name: `Account: ${ADMIN.email} Admin` });
    await menuButton.focus();
    await page.keyboard.press('ArrowDown');
    const menu = page.getByRole('menu', { name: 'Account' });
    await menu.waitFor();
    const focused = () => page.evaluate('document.activeElement ? document.activeElement.textContent : ""');
    assert.equal(await focused(), 'Change password');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'Sign out');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'Change password', 'the arrows wrap round');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
    assert.equal(
      await menuButton.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'focus back on the button',
    );

    const bell = page.getByRole('button', { name: /^Alerts/ });
    await bell.click();
    await page.getByRole('region', { name: 'Failure alerts' }).waitFor();
    await page.keyboard.press('Escape');
    assert.equal(await bell.evaluate((el) => el === el.ownerDocument.activeElement), true, 'focus back on the bell');
    assert.deepEqual(b.errors, []);
  });
});
