// Safer configuration in Chromium against a real Billflow: a role change, a deactivation, deleting
// a Slack endpoint and reverting a template each ask first (and "Keep as is" changes nothing in
// the database), say what happened after; a lost invitation link is replaced by a new one.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { browserSession, describeInChromium } from './harness.ts';

const ADMIN = { email: 'root@example.com', password: 'correct horse battery staple' };

describeInChromium('configuration safety in Chromium', () => {
  const ui = browserSession({ users: [{ ...ADMIN, role: 'admin' }], signIn: ADMIN });

  const audits = (action: string) =>
    ui.rows<{ target: string }>('SELECT target FROM audit_log WHERE action = $1', [action]);

  it('a lost invitation is replaced: the old link stops working, the new one signs in', async () => {
    await ui.page.goto('/settings/users');
    await ui.page.getByLabel('Email', { exact: true }).fill('vic@example.com');
    await ui.page.getByRole('button', { name: 'Invite' }).click();
    let dialog = ui.page.getByRole('dialog', { name: 'Invitation created' });
    const first = await dialog.getByLabel('Invitation link').inputValue();
    await dialog.getByRole('button', { name: 'Done' }).click();

    await ui.page.getByRole('button', { name: 'New invitation link for vic@example.com' }).click();
    dialog = ui.page.getByRole('dialog', { name: 'New invitation link' });
    await dialog.getByText('earlier links no longer work').waitFor();
    const second = await dialog.getByLabel('Invitation link').inputValue();
    assert.notEqual(second, first);
    await dialog.getByRole('button', { name: 'Done' }).click();
    const [vic] = await ui.rows<{ id: string }>(`SELECT id FROM users WHERE email = 'vic@example.com'`);
    assert.ok(vic);
    assert.equal(
      (await ui.rows('SELECT 1 FROM setup_tokens WHERE user_id = $1 AND used_at IS NULL', [vic.id])).length,
      1,
    );
    assert.deepEqual(await audits('user.invite'), [{ target: `user:${vic.id}` }]);

    const invited = await ui.b.newPage();
    // The replaced link says so at once, instead of a form that fails on submit.
    await invited.goto(first.replace(ui.stack.url, ''));
    await invited.getByRole('alert').filter({ hasText: 'This link is not valid' }).waitFor();
    assert.equal(await invited.getByRole('button', { name: 'Set password and sign in' }).count(), 0);
    await invited.goto(second.replace(ui.stack.url, ''));
    await invited.getByLabel('Password', { exact: true }).fill('vic passphrase 1234');
    await invited.getByLabel('Confirm password').fill('vic passphrase 1234');
    await invited.getByRole('button', { name: 'Set password and sign in' }).click();
    await invited.getByRole('heading', { name: 'Dashboard' }).waitFor();
    // Vic is deactivated below: a page of theirs left open would see its session end.
    await invited.context().close();

    // Signed in with a password now: no more invitation links for them.
    await ui.page.reload();
    await ui.page.getByRole('cell', { name: 'vic@example.com', exact: true }).waitFor();
    assert.equal(await ui.page.getByRole('button', { name: 'New invitation link for vic@example.com' }).count(), 0);
    assert.deepEqual(ui.b.errors, []);
  });

  it('a role change and a deactivation ask first and say what happened', async () => {
    const role = ui.page.getByLabel('Role of vic@example.com');
    await role.selectOption('developer');
    let dialog = ui.page.getByRole('dialog', { name: 'Change role' });
    await dialog.getByText(/goes from Viewer to Developer/).waitFor();
    await dialog.getByRole('button', { name: 'Keep as is' }).click();
    assert.equal(await role.inputValue(), 'viewer');
    assert.deepEqual(await ui.rows(`SELECT role FROM users WHERE email = 'vic@example.com'`), [{ role: 'viewer' }]);

    await role.selectOption('developer');
    dialog = ui.page.getByRole('dialog', { name: 'Change role' });
    await dialog.getByRole('button', { name: 'Change role' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'vic@example.com is now Developer.' }).waitFor();
    assert.deepEqual(await ui.rows(`SELECT role FROM users WHERE email = 'vic@example.com'`), [{ role: 'developer' }]);
    assert.equal((await audits('user.update')).length, 1);

    await ui.page.getByRole('button', { name: 'Deactivate vic@example.com' }).click();
    dialog = ui.page.getByRole('dialog', { name: 'Deactivate user' });
    await dialog.getByText(/signed out everywhere/).waitFor();
    await dialog.getByRole('button', { name: 'Deactivate user' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'vic@example.com is deactivated' }).waitFor();
    assert.deepEqual(await ui.rows(`SELECT active FROM users WHERE email = 'vic@example.com'`), [{ active: false }]);
    assert.deepEqual(ui.b.errors, []);
  });

  it('deleting a Slack endpoint and reverting a template ask first', async () => {
    await ui.page.goto('/settings/slack');
    await ui.page.getByLabel('Endpoint name').fill('ops channel');
    await ui.page.getByLabel('Webhook URL').fill(`${ui.stack.slack.url}/services/T000/B000/XYZ`);
    await ui.page.getByRole('button', { name: 'Add endpoint' }).click();
    await ui.page.getByRole('button', { name: 'Delete ops channel' }).click();
    let dialog = ui.page.getByRole('dialog', { name: 'Delete Slack endpoint' });
    await dialog.getByText(/stop going to ops channel/).waitFor();
    await dialog.getByRole('button', { name: 'Keep as is' }).click();
    assert.equal((await ui.rows('SELECT 1 FROM slack_endpoints')).length, 1);
    await ui.page.getByRole('button', { name: 'Delete ops channel' }).click();
    await ui.page
      .getByRole('dialog', { name: 'Delete Slack endpoint' })
      .getByRole('button', { name: 'Delete endpoint' })
      .click();
    await ui.page.getByText('No Slack endpoint yet.').waitFor();
    assert.equal((await ui.rows('SELECT 1 FROM slack_endpoints')).length, 0);

    await ui.page.goto('/settings/templates');
    await ui.page.getByLabel('Template', { exact: true }).selectOption('subscription_created/email/en');
    await ui.page.getByLabel('Body', { exact: true }).fill('Edited, {{ customer.email }}.');
    await ui.page.getByRole('button', { name: 'Save template' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const overrides = () => ui.rows(`SELECT 1 FROM notification_templates WHERE event = 'subscription_created'`);
    assert.equal((await overrides()).length, 1);
    await ui.page.getByRole('button', { name: 'Revert to shipped' }).click();
    dialog = ui.page.getByRole('dialog', { name: 'Revert to the shipped template' });
    await dialog.getByRole('button', { name: 'Keep as is' }).click();
    assert.equal((await overrides()).length, 1);
    await ui.page.getByRole('button', { name: 'Revert to shipped' }).click();
    await ui.page
      .getByRole('dialog', { name: 'Revert to the shipped template' })
      .getByRole('button', { name: 'Revert template' })
      .click();
    await ui.page.getByRole('status').filter({ hasText: 'Reverted to the shipped template.' }).waitFor();
    assert.equal((await overrides()).length, 0);
    assert.deepEqual(ui.b.errors, []);
  });
});
