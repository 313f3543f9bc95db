// Safer configuration in Chromium against a real Billflow: a role change, a deactivation, deleting
// a Slack endpoint and reverting a template each ask first (and "Keep as is" changes nothing in
// the database), say what happened after; a lost invitation link is replaced by a new one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { createUser } from '../../src/http/auth/users.ts';
import { browserMissing, openBrowser, signIn, startStack } from './harness.ts';
import type { Browsing, Stack } from './harness.ts';

const skip = browserMissing();
const ADMIN = { email: 'root@example.com', password: 'correct horse battery staple' };

describe('configuration safety in Chromium', { skip: skip ?? false }, () => {
  let stack: Stack;
  let b: Browsing;
  let page: Page;

  before(async () => {
    stack = await startStack();
    b = await openBrowser(stack.url);
    page = b.page;
    await createUser(stack.service.db, { ...ADMIN, role: 'admin', now: new Date() });
    await signIn(page, ADMIN);
  });

  after(async () => {
    await b?.close();
    await stack?.close();
  });

  const rows = async <T>(sql: string, params: unknown[] = []): Promise<T[]> =>
    (await stack.service.db.query(sql, params)).rows as T[];
  const audits = (action: string) =>
    rows<{ target: string }>('SELECT target FROM audit_log WHERE action = $1', [action]);

  it('a lost invitation is replaced: the old link stops working, the new one signs in', async () => {
    await page.goto('/settings/users');
    await page.getByLabel('Email', { exact: true }).fill('vic@example.com');
    await page.getByRole('button', { name: 'Invite' }).click();
    let dialog = page.getByRole('dialog', { name: 'Invitation created' });
    const first = await dialog.getByLabel('Invitation link').inputValue();
    await dialog.getByRole('button', { name: 'Done' }).click();

    await page.getByRole('button', { name: 'New invitation link for vic@example.com' }).click();
    dialog = page.getByRole('dialog', { name: 'New invitation link' });
    await dialog.getByText('earlier links no longer work').waitFor();
    const second = await dialog.getByLabel('Invitation link').inputValue();
    assert.notEqual(second, first);
    await dialog.getByRole('button', { name: 'Done' }).click();
    const [vic] = await rows<{ id: string }>(`SELECT id FROM users WHERE email = 'vic@example.com'`);
    assert.ok(vic);
    assert.equal((await rows('SELECT 1 FROM setup_tokens WHERE user_id = $1 AND used_at IS NULL', [vic.id])).length, 1);
    assert.deepEqual(await audits('user.invite'), [{ target: `user:${vic.id}` }]);

    const invited = await b.newPage();
    // The replaced link says so at once, instead of a form that fails on submit.
    await invited.goto(first.replace(stack.url, ''));
    await invited.getByRole('alert').filter({ hasText: 'This link is not valid' }).waitFor();
    assert.equal(await invited.getByRole('button', { name: 'Set password and sign in' }).count(), 0);
    await invited.goto(second.replace(stack.url, ''));
    await invited.getByLabel('Password', { exact: true }).fill('vic passphrase 1234');
    await invited.getByLabel('Confirm password').fill('vic passphrase 1234');
    await invited.getByRole('button', { name: 'Set password and sign in' }).click();
    await invited.getByRole('heading', { name: 'Dashboard' }).waitFor();
    // Vic is deactivated below: a page of theirs left open would see its session end.
    await invited.context().close();

    // Signed in with a password now: no more invitation links for them.
    await page.reload();
    await page.getByRole('cell', { name: 'vic@example.com', exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'New invitation link for vic@example.com' }).count(), 0);
    assert.deepEqual(b.errors, []);
  });

  it('a role change and a deactivation ask first and say what happened', async () => {
    const role = page.getByLabel('Role of vic@example.com');
    await role.selectOption('developer');
    let dialog = page.getByRole('dialog', { name: 'Change role' });
    await dialog.getByText(/goes from Viewer to Developer/).waitFor();
    await dialog.getByRole('button', { name: 'Keep as is' }).click();
    assert.equal(await role.inputValue(), 'viewer');
    assert.deepEqual(await rows(`SELECT role FROM users WHERE email = 'vic@example.com'`), [{ role: 'viewer' }]);

    await role.selectOption('developer');
    dialog = page.getByRole('dialog', { name: 'Change role' });
    await dialog.getByRole('button', { name: 'Change role' }).click();
    await page.getByRole('status').filter({ hasText: 'vic@example.com is now Developer.' }).waitFor();
    assert.deepEqual(await rows(`SELECT role FROM users WHERE email = 'vic@example.com'`), [{ role: 'developer' }]);
    assert.equal((await audits('user.update')).length, 1);

    await page.getByRole('button', { name: 'Deactivate vic@example.com' }).click();
    dialog = page.getByRole('dialog', { name: 'Deactivate user' });
    await dialog.getByText(/signed out everywhere/).waitFor();
    await dialog.getByRole('button', { name: 'Deactivate user' }).click();
    await page.getByRole('status').filter({ hasText: 'vic@example.com is deactivated' }).waitFor();
    assert.deepEqual(await rows(`SELECT active FROM users WHERE email = 'vic@example.com'`), [{ active: false }]);
    assert.deepEqual(b.errors, []);
  });

  it('deleting a Slack endpoint and reverting a template ask first', async () => {
    await page.goto('/settings/slack');
    await page.getByLabel('Endpoint name').fill('ops channel');
    await page.getByLabel('Webhook URL').fill(`${stack.slack.url}/services/T000/B000/XYZ`);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('button', { name: 'Delete ops channel' }).click();
    let dialog = page.getByRole('dialog', { name: 'Delete Slack endpoint' });
    await dialog.getByText(/stop going to ops channel/).waitFor();
    await dialog.getByRole('button', { name: 'Keep as is' }).click();
    assert.equal((await rows('SELECT 1 FROM slack_endpoints')).length, 1);
    await page.getByRole('button', { name: 'Delete ops channel' }).click();
    await page
      .getByRole('dialog', { name: 'Delete Slack endpoint' })
      .getByRole('button', { name: 'Delete endpoint' })
      .click();
    await page.getByText('No Slack endpoint yet.').waitFor();
    assert.equal((await rows('SELECT 1 FROM slack_endpoints')).length, 0);

    await page.goto('/settings/templates');
    await page.getByLabel('Template', { exact: true }).selectOption('subscription_created/email/en');
    await page.getByLabel('Body', { exact: true }).fill('Edited, {{ customer.email }}.');
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const overrides = () => rows(`SELECT 1 FROM notification_templates WHERE event = 'subscription_created'`);
    assert.equal((await overrides()).length, 1);
    await page.getByRole('button', { name: 'Revert to shipped' }).click();
    dialog = page.getByRole('dialog', { name: 'Revert to the shipped template' });
    await dialog.getByRole('button', { name: 'Keep as is' }).click();
    assert.equal((await overrides()).length, 1);
    await page.getByRole('button', { name: 'Revert to shipped' }).click();
    await page
      .getByRole('dialog', { name: 'Revert to the shipped template' })
      .getByRole('button', { name: 'Revert template' })
      .click();
    await page.getByRole('status').filter({ hasText: 'Reverted to the shipped template.' }).waitFor();
    assert.equal((await overrides()).length, 0);
    assert.deepEqual(b.errors, []);
  });
});
