// Signed-out pages in Chromium against a real Billflow: the setup link creates the first admin
// once, and opened again says it was already used and leads to sign-in (no form that fails on
// submit); a session ended by a password change in another browser lands on sign-in saying so.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { browserSession, describeInChromium } from './harness.ts';

describeInChromium('setup link and ended sessions in Chromium', () => {
  const ui = browserSession();

  it('a used setup link says so and links to sign-in; a password change elsewhere is explained on sign-in', async () => {
    const link = await ui.stack.setupLink();
    assert.ok(link);
    const path = link.replace(ui.stack.url, '');
    const page = ui.page;
    await page.goto(path);
    await page.getByLabel('Email').fill('first@example.com');
    await page.getByLabel('Password', { exact: true }).fill('first admin passphrase');
    await page.getByLabel('Confirm password').fill('first admin passphrase');
    await page.getByRole('button', { name: 'Create admin account' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const { rows } = await ui.db.query<{ email: string; role: string }>('SELECT email, role FROM users');
    assert.deepEqual(rows, [{ email: 'first@example.com', role: 'admin' }]);

    const other = await ui.b.newPage();
    await other.goto(path);
    await other.getByRole('alert').filter({ hasText: 'This link was already used.' }).waitFor();
    assert.equal(await other.getByRole('button', { name: 'Create admin account' }).count(), 0);
    await other.getByRole('link', { name: 'Go to sign in' }).click();
    await other.getByRole('heading', { name: 'Sign in' }).waitFor();
    await other.getByLabel('Email').fill('first@example.com');
    await other.getByLabel('Password').fill('first admin passphrase');
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.equal(ui.b.errors.length, 0, ui.b.errors.join('\n'));

    // Two browsers of the same admin: a password change in one ends the session of the other.
    // The first is on Settings by then: its next call, a reload here or a poll of the page
    // before it, is refused, and it signs in again where it was.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await other.goto('/account');
    await other.getByLabel('Current password').fill('first admin passphrase');
    await other.getByLabel('New password').fill('second admin passphrase');
    await other.getByRole('button', { name: 'Change password' }).click();
    await other.getByRole('status').first().waitFor();
    const revoked = await ui.db.query<{ revoked: boolean }>(
      'SELECT revoked_at IS NOT NULL AS revoked FROM sessions ORDER BY id',
    );
    assert.deepEqual(
      revoked.rows.map((r) => r.revoked),
      [true, false],
    );

    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: 'Your password was changed in another session, which signed you out here.' })
      .waitFor();
    // The refused call that revealed the ended session is the expected 401.
    assert.ok(
      ui.b.errors.every((e) => e.includes('status of 401')),
      ui.b.errors.join('\n'),
    );
    ui.b.errors.length = 0;
    await page.getByLabel('Email').fill('first@example.com');
    await page.getByLabel('Password').fill('second admin passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back where the person was, without the notice.
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    assert.match(page.url(), /\/settings/);
    assert.equal(await page.getByText('Your password was changed in another session').count(), 0);
    assert.deepEqual(ui.b.errors, []);
  });
});
