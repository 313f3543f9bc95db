// Invitations by email in Chromium against a real Billflow with a real SMTP server: inviting says
// the email went out, the mailed link sets a password and signs in; a re-issued invitation the
// mail server refuses says so and shows the link to copy instead.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { browserSession, describeInChromium, eventually } from './harness.ts';

const ADMIN = { email: 'root@example.com', password: 'correct horse battery staple' };

describeInChromium('invitations by email in Chromium', () => {
  const ui = browserSession({ users: [{ ...ADMIN, role: 'admin' }], signIn: ADMIN });

  const mailsTo = (address: string) => ui.stack.smtp.received.filter((m) => m.to.includes(address));
  const linkIn = (text: string | undefined) => /https?:\/\/\S+\/invitation\?token=\S+/.exec(text ?? '')?.[0];

  it('an invitation is emailed, the dialog says so, and the mailed link signs the person in', async () => {
    await ui.page.goto('/settings/users');
    await ui.page.getByLabel('Email', { exact: true }).fill('ivy@example.com');
    await ui.page.getByRole('button', { name: 'Invite' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Invitation created' });
    await dialog.getByRole('status').filter({ hasText: 'The invitation was emailed to ivy@example.com.' }).waitFor();
    const shown = await dialog.getByLabel('Invitation link').inputValue();
    await dialog.getByRole('button', { name: 'Done' }).click();

    const mail = await eventually(async () => mailsTo('ivy@example.com')[0], 'the invitation email');
    const link = linkIn(mail.mail.text);
    assert.equal(link, shown, 'the email carries the link the dialog showed');

    const invited = await ui.b.newPage();
    await invited.goto(new URL(String(link)).pathname + new URL(String(link)).search);
    await invited.getByLabel('Password', { exact: true }).fill('ivy passphrase 1234');
    await invited.getByLabel('Confirm password').fill('ivy passphrase 1234');
    await invited.getByRole('button', { name: 'Set password and sign in' }).click();
    await invited.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const { rows } = await ui.db.query<{ set: boolean }>(
      `SELECT password_hash IS NOT NULL AS set FROM users WHERE email = 'ivy@example.com'`,
    );
    assert.deepEqual(rows, [{ set: true }]);
    await invited.context().close();
  });

  it('when the mail server refuses a re-issued invitation, the dialog says so and shows the link', async () => {
    await ui.page.goto('/settings/users');
    await ui.page.getByLabel('Email', { exact: true }).fill('zed@example.com');
    await ui.page.getByRole('button', { name: 'Invite' }).click();
    let dialog = ui.page.getByRole('dialog', { name: 'Invitation created' });
    await dialog.getByRole('status').filter({ hasText: 'emailed to zed@example.com' }).waitFor();
    await dialog.getByRole('button', { name: 'Done' }).click();

    ui.stack.smtp.rejectRecipient = (address) => (address === 'zed@example.com' ? 550 : undefined);
    try {
      await ui.page.getByRole('button', { name: 'New invitation link for zed@example.com' }).click();
      dialog = ui.page.getByRole('dialog', { name: 'New invitation link' });
      await dialog.getByRole('status').filter({ hasText: 'The email to zed@example.com could not be sent' }).waitFor();
      await dialog.getByText('Copy this link and send it to').waitFor();
      await dialog.getByText('earlier links no longer work').waitFor();
      const link = await dialog.getByLabel('Invitation link').inputValue();
      assert.match(link, /\/invitation\?token=/);
      await dialog.getByRole('button', { name: 'Done' }).click();
    } finally {
      ui.stack.smtp.rejectRecipient = () => undefined;
    }
    const { rows } = await ui.db.query<{ status: string }>(
      `SELECT status FROM message_sends WHERE kind = 'user_invitation' AND recipient = 'zed@example.com' ORDER BY created_at`,
    );
    assert.deepEqual(
      rows.map((r) => r.status),
      ['sent', 'failed'],
    );
    assert.deepEqual(ui.b.errors, []);
  });
});
