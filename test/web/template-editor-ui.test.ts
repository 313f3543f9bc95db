// The template editor in Chromium against a real Billflow: unsaved edits are not lost without
// asking (a link, another template, the back button, a reload), a misspelled variable is named in
// the preview, and the variables panel lists what the event's sample data offers.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { browserSession, describeInChromium } from './harness.ts';

const ADMIN = { email: 'root@example.com', password: 'correct horse battery staple' };
const TEMPLATE = 'payment_failed/email/en';

describeInChromium('the template editor in Chromium', () => {
  const ui = browserSession({ users: [{ ...ADMIN, role: 'admin' }], signIn: ADMIN });

  const overrides = async () =>
    (
      await ui.db.query<{ subject: string; body: string }>(
        `SELECT subject, body FROM notification_templates WHERE event = 'payment_failed' AND channel = 'email'`,
      )
    ).rows;
  const body = () => ui.page.getByLabel('Body', { exact: true });
  const leaveDialog = () => ui.page.getByRole('dialog', { name: 'Leave without saving?' });

  async function openEditor(): Promise<void> {
    await ui.page.goto(`/settings/templates?template=${encodeURIComponent(TEMPLATE)}`);
    await ui.page.getByTestId('preview-body').waitFor();
  }

  it('a misspelled variable is named in the preview; the panel lists the variables of the event', async () => {
    await openEditor();
    const panel = ui.page.locator('.variable-list');
    await panel.getByText('customer.name', { exact: true }).waitFor();
    await panel.getByText('Ada Lovelace', { exact: true }).waitFor();
    await panel.getByText('payment.failure_reason', { exact: true }).waitFor();
    await panel.getByText('company.name', { exact: true }).waitFor();
    assert.equal(await ui.page.getByTestId('preview-warnings').count(), 0, 'the shipped text uses known variables');

    await body().fill('Hello {{ customer.nme }}, and {{ customer.name }}.');
    const warning = ui.page.getByTestId('preview-warnings');
    await warning.getByText('customer.nme', { exact: true }).waitFor();
    await warning.getByText(/in the body/).waitFor();
    await ui.page.getByTestId('preview-body').filter({ hasText: 'Hello , and Ada Lovelace.' }).waitFor();

    await body().fill('Hello {{ customer.name }}.');
    await ui.page.getByTestId('preview-body').filter({ hasText: 'Hello Ada Lovelace.' }).waitFor();
    await warning.waitFor({ state: 'detached' });
    await ui.b.shot('template-editor-variables');
  });

  it('leaving with unsaved edits asks first: a link, another template, the back button', async () => {
    // Reached in the app (not a page load), so the back button stays in the app.
    await ui.page.goto('/settings/notifications');
    await ui.page.getByRole('link', { name: 'Templates' }).click();
    await ui.page.getByLabel('Template', { exact: true }).selectOption(TEMPLATE);
    await ui.page.getByTestId('preview-body').waitFor();
    await body().fill('Edited {{ customer.name }}');

    // A link in the app: "Keep as is" stays, with the edit.
    await ui.page.getByRole('link', { name: 'Notifications' }).click();
    await leaveDialog().getByRole('button', { name: 'Keep as is' }).click();
    assert.match(ui.page.url(), /\/settings\/templates/);
    assert.equal(await body().inputValue(), 'Edited {{ customer.name }}');

    // Another template from the list.
    await ui.page.getByLabel('Template', { exact: true }).selectOption('payment_succeeded/email/en');
    await leaveDialog().getByRole('button', { name: 'Keep as is' }).click();
    assert.equal(await body().inputValue(), 'Edited {{ customer.name }}');
    assert.equal(await ui.page.getByLabel('Template', { exact: true }).inputValue(), TEMPLATE);

    // The browser's back button (the page before was the notification settings).
    await ui.page.goBack();
    await leaveDialog().getByRole('button', { name: 'Keep as is' }).click();
    assert.match(ui.page.url(), /\/settings\/templates/);
    assert.equal(await body().inputValue(), 'Edited {{ customer.name }}');

    // "Discard changes" goes where the link pointed; nothing was saved.
    await ui.page.getByRole('link', { name: 'Notifications' }).click();
    await leaveDialog().getByRole('button', { name: 'Discard changes' }).click();
    await ui.page.waitForURL(/\/settings\/notifications/);
    assert.deepEqual(await overrides(), []);
  });

  it('a reload or closing the tab with unsaved edits asks the browser prompt', async () => {
    await openEditor();
    await body().fill('Edited again');
    const asked = ui.page.waitForEvent('dialog');
    void ui.page.evaluate('location.reload()').catch(() => undefined);
    const dialog = await asked;
    assert.equal(dialog.type(), 'beforeunload');
    await dialog.dismiss();
    assert.equal(await body().inputValue(), 'Edited again');
  });

  it('saved edits (a misspelling is saved, with its warning) leave without a question', async () => {
    await openEditor();
    await body().fill('Saved {{ customer.nme }}');
    await ui.page.getByTestId('preview-warnings').getByText('customer.nme', { exact: true }).waitFor();
    await ui.page.getByRole('button', { name: 'Save template' }).click();
    await ui.page
      .getByRole('status')
      .filter({ hasText: /^Saved / })
      .waitFor();
    assert.deepEqual(
      (await overrides()).map((o) => o.body),
      ['Saved {{ customer.nme }}'],
    );
    await ui.page.getByRole('link', { name: 'Notifications' }).click();
    await ui.page.waitForURL(/\/settings\/notifications/);
    assert.equal(await leaveDialog().count(), 0);
    assert.deepEqual(ui.b.errors, []);
  });
});
