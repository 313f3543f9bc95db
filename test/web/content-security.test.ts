// The Content-Security-Policy in real Chromium: every main page of the admin UI, the sign-in,
// setup and invitation pages and Swagger UI at /api/docs load under it without one violation.
// The listener is installed before any page script runs, and a deliberate inline script proves
// that it hears violations at all.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { apiClient, browserSession, describeInChromium, eventually } from './harness.ts';

const ADMIN = { email: 'csp@example.com', password: 'correct horse battery staple' };

describeInChromium('Content-Security-Policy in Chromium', () => {
  const ui = browserSession();
  const violations: string[] = [];

  before(async () => {
    await ui.b.context.exposeBinding('__reportCsp', (source, violation: string) => {
      violations.push(`${new URL(source.frame.url()).pathname}: ${violation}`);
    });
    // Runs in every document before its own scripts (the tests' TypeScript has no DOM types).
    await ui.b.context.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) => {
        window.__reportCsp(e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' at ' + e.sourceFile + ':' + e.lineNumber);
      }, true);`,
    });
  });

  /** Opens `path`, waits for what shows it rendered, and returns the violations it caused. */
  async function visit(path: string, rendered: () => Promise<void>): Promise<string[]> {
    const before = violations.length;
    await ui.page.goto(path);
    await rendered();
    await ui.page.waitForLoadState('load');
    return violations.slice(before);
  }

  const heading = (name: string | RegExp) => () => ui.page.getByRole('heading', { name }).first().waitFor();

  it('the sign-in pages, every main page and the API docs load with zero violations', async () => {
    const link = await ui.stack.setupLink();
    assert.ok(link);
    const seen: string[] = [];
    seen.push(...(await visit(link.replace(ui.stack.url, ''), heading('Welcome to Billflow'))));
    await ui.page.getByLabel('Email').fill(ADMIN.email);
    await ui.page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await ui.page.getByLabel('Confirm password').fill(ADMIN.password);
    await ui.page.getByRole('button', { name: 'Create admin account' }).click();
    await ui.page.getByRole('heading', { name: 'Dashboard' }).waitFor();

    // Something to show: a plan, a customer, a subscription and its run.
    const { key } = await createApiKey(ui.db, {
      name: 'csp test',
      role: 'admin',
      expiresAt: null,
      createdBy: null,
      now: new Date(),
    });
    const call = apiClient(ui.stack.url, key);
    await call('POST', '/plans', { code: 'pro', name: 'Pro', amount: 2900, currency: 'EUR', interval: 'month' });
    const customer = await call<{ customer: { id: string } }>('POST', '/customers', { email: 'ada@example.com' });
    const customerId = customer.body.customer.id;
    const subscription = await call<{ workflow_run_id: string }>('POST', '/subscriptions', {
      customer_id: customerId,
      plan_code: 'pro',
    });
    const runId = subscription.body.workflow_run_id;
    await eventually(
      async () => (await call<{ status: string }>('GET', `/workflows/${runId}`)).body.status === 'completed',
      'the subscription run',
    );
    const invite = await call<{ invite_url: string }>('POST', '/users', {
      email: 'invited@example.com',
      role: 'viewer',
    });

    const pages: [string, () => Promise<void>][] = [
      ['/', heading('Dashboard')],
      ['/workflows/subscription_creation', () => ui.page.getByRole('link', { name: runId }).first().waitFor()],
      [`/runs/${runId}`, () => ui.page.getByText('send_internal_notice').first().waitFor()],
      ['/customers', heading('Customers')],
      [`/customers/${customerId}`, () => ui.page.getByText('ada@example.com').first().waitFor()],
      ['/bulk-restart', heading('Bulk restart')],
      ['/trigger', heading('Start a workflow')],
      ['/reconciliation', heading('Reconciliation')],
      ['/account', heading('Your account')],
      ['/settings/notifications', heading('Settings')],
      ['/settings/slack', heading('Settings')],
      ['/settings/users', () => ui.page.getByRole('cell', { name: ADMIN.email }).waitFor()],
      ['/settings/api-keys', () => ui.page.getByRole('cell', { name: 'csp test', exact: true }).waitFor()],
      ['/settings/outbox', heading('Settings')],
      ['/settings/audit', heading('Settings')],
    ];
    for (const [path, rendered] of pages) seen.push(...(await visit(path, rendered)));

    // The template editor renders a live preview of the email's HTML.
    seen.push(...(await visit('/settings/templates', heading('Settings'))));
    await ui.page.getByLabel('Template', { exact: true }).selectOption('subscription_created/email/en');
    await ui.page.getByTestId('preview-subject').waitFor();

    // Swagger UI, with an operation opened.
    seen.push(...(await visit('/api/docs', () => ui.page.getByText('Billflow API').first().waitFor())));
    await ui.page
      .getByRole('button', { name: /GET \/api\/v1\/auth\/session/ })
      .first()
      .click();
    await ui.page.getByRole('button', { name: 'Try it out' }).waitFor();

    // Signed out: the sign-in and invitation pages.
    await ui.b.context.clearCookies();
    seen.push(...(await visit('/login', heading('Sign in'))));
    seen.push(...(await visit(invite.body.invite_url.replace(ui.stack.url, ''), heading('Accept your invitation'))));

    assert.deepEqual(seen, [], 'CSP violations');
    assert.deepEqual(violations, [], 'CSP violations after the pages settled');
    const unexpected = ui.b.errors.filter((e) => !e.includes('status of 401'));
    assert.deepEqual(unexpected, [], 'console errors in the browser');
  });

  it('the listener does hear a violation: an injected inline script is blocked and reported', async () => {
    const before = violations.length;
    await ui.page.goto('/login');
    await ui.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const ran = await ui.page.evaluate(`(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      document.head.append(script);
      return window.__inlineRan === true;
    })()`);
    assert.equal(ran, false, 'the inline script did not run');
    const reported = await eventually(async () => violations.length > before && violations.slice(before), 'a report');
    assert.match(reported[0] ?? '', /^\/login: script-src(-elem)? blocked inline/);
    violations.splice(before);
    ui.b.errors.splice(0);
  });
});
