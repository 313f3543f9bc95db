// Accessibility in Chromium against a real Billflow: axe-core (injected into the page) finds no
// serious or critical violation on the dashboard, the run list, the failed runs, a run and the
// settings, at desktop width and at 390 px; a skip link, focus moved to the content after each
// page change, and a user menu driven by the keyboard.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { axeViolations } from './axe.ts';
import { browserSession, describeInChromium, eventually, signIn } from './harness.ts';

const ADMIN = { email: 'ada@example.com', password: 'correct horse battery staple' };

describeInChromium('accessibility in Chromium', () => {
  const ui = browserSession({ users: [{ ...ADMIN, role: 'admin' }], apiKey: true });
  let failedRun = '';

  before(async () => {
    const call = ui.call;
    await call('POST', '/plans', { code: 'pro', name: 'Pro', amount: 2900, currency: 'EUR', interval: 'month' });
    ui.stack.smtp.rejectRecipient = (address) => (address.startsWith('bounce') ? 550 : undefined);
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
      const context = await ui.b.browser.newContext({ baseURL: ui.stack.url, viewport: { width, height } });
      const p = await context.newPage();
      const errors: string[] = [];
      p.on('console', (m) => {
        if (m.type() === 'error' && !m.location().url.endsWith('/api/v1/auth/session')) errors.push(m.text());
      });
      p.on('pageerror', (e) => errors.push(e.message));
      await signIn(p, ADMIN);
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
    await signIn(ui.page, ADMIN);
    await ui.page.keyboard.press('Tab');
    const skipLink = ui.page.getByRole('link', { name: 'Skip to main content' });
    assert.equal(
      await skipLink.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'the skip link comes first',
    );
    await ui.page.keyboard.press('Enter');
    assert.equal(await ui.page.evaluate('document.activeElement && document.activeElement.id'), 'main');

    await ui.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await ui.page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    assert.equal(
      await ui.page.evaluate('document.activeElement && document.activeElement.id'),
      'main',
      'focus moved to the content',
    );

    const menuButton = ui.page.getByRole('button', { name: `Account: ${ADMIN.email} Admin` });
    await menuButton.focus();
    await ui.page.keyboard.press('ArrowDown');
    const menu = ui.page.getByRole('menu', { name: 'Account' });
    await menu.waitFor();
    const focused = () => ui.page.evaluate('document.activeElement ? document.activeElement.textContent : ""');
    assert.equal(await focused(), 'Change password');
    await ui.page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'Sign out');
    await ui.page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'Change password', 'the arrows wrap round');
    await ui.page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
    assert.equal(
      await menuButton.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'focus back on the button',
    );

    const bell = ui.page.getByRole('button', { name: /^Alerts/ });
    await bell.click();
    await ui.page.getByRole('region', { name: 'Failure alerts' }).waitFor();
    await ui.page.keyboard.press('Escape');
    assert.equal(await bell.evaluate((el) => el === el.ownerDocument.activeElement), true, 'focus back on the bell');
    assert.deepEqual(ui.b.errors, []);
  });
});
