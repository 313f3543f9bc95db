// The setup link in Chromium against a real Billflow: it creates the first admin once; opened
// again it says it was already used and leads to sign-in, instead of a form that fails on submit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browserMissing, openBrowser, startStack } from './harness.ts';
import type { Browsing, Stack } from './harness.ts';

const skip = browserMissing();

describe('setup link pages in Chromium', { skip: skip ?? false }, () => {
  let stack: Stack;
  let b: Browsing;

  before(async () => {
    stack = await startStack();
    b = await openBrowser(stack.url);
  });

  after(async () => {
    await b?.close();
    await stack?.close();
  });

  it('a used setup link says so and links to sign-in; no create-admin form', async () => {
    const link = await stack.setupLink();
    assert.ok(link);
    const path = link.replace(stack.url, '');
    const page = b.page;
    await page.goto(path);
    await page.getByLabel('Email').fill('first@example.com');
    await page.getByLabel('Password', { exact: true }).fill('first admin passphrase');
    await page.getByLabel('Confirm password').fill('first admin passphrase');
    await page.getByRole('button', { name: 'Create admin account' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const { rows } = await stack.service.db.query<{ email: string; role: string }>('SELECT email, role FROM users');
    assert.deepEqual(rows, [{ email: 'first@example.com', role: 'admin' }]);

    const other = await b.newPage();
    await other.goto(path);
    await other.getByRole('alert').filter({ hasText: 'This link was already used.' }).waitFor();
    assert.equal(await other.getByRole('button', { name: 'Create admin account' }).count(), 0);
    await other.getByRole('link', { name: 'Go to sign in' }).click();
    await other.getByRole('heading', { name: 'Sign in' }).waitFor();
    await other.getByLabel('Email').fill('first@example.com');
    await other.getByLabel('Password').fill('first admin passphrase');
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.deepEqual(b.errors, []);
  });
});
