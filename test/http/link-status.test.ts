// The link pages ask whether a setup or invitation link still works before showing a form:
// valid, used (a setup link once any user exists), expired, or invalid (unknown or replaced) —
// and asking spends nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createInvite, ensureSetupToken } from '../../src/http/auth/setup.ts';
import { insertUser } from '../../src/http/auth/users.ts';
import { buildServer } from '../../src/http/server.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { PASSWORD } from './support.ts';

eachDatabase((kind) => {
  test('link-status tells valid, used, expired and invalid links apart, and spends nothing', async () => {
    const { db } = await freshDatabase(kind);
    let now = new Date('2026-12-05T10:00:00Z');
    const app = buildServer({ db, clock: () => now });
    const status = async (linkKind: string, token: string) => {
      const r = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/link-status',
        payload: { kind: linkKind, token },
      });
      assert.equal(r.statusCode, 200, r.body);
      return r.json<{ status: string }>().status;
    };
    const stale = await ensureSetupToken(db, now);
    const token = await ensureSetupToken(db, now);
    assert.ok(stale && token);
    assert.equal(await status('setup', token), 'valid');
    assert.equal(await status('setup', token), 'valid', 'asking twice spends nothing');
    assert.equal(await status('setup', stale), 'invalid', 'an earlier start-up link is gone');
    assert.equal(await status('invitation', token), 'invalid', 'a setup token is no invitation');
    const unused = await db.query('SELECT 1 FROM setup_tokens WHERE used_at IS NULL');
    assert.equal(unused.rows.length, 1);

    const setup = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/setup',
      payload: { token, email: 'first@example.com', password: PASSWORD },
    });
    assert.equal(setup.statusCode, 201, setup.body);
    assert.equal(await status('setup', token), 'used');

    const invitee = await insertUser(db, { email: 'invitee@example.com', role: 'viewer', passwordHash: null, now });
    const first = await createInvite(db, invitee.id, now);
    const second = await createInvite(db, invitee.id, now);
    assert.equal(await status('invitation', first), 'invalid', 'replaced by a newer link');
    assert.equal(await status('invitation', second), 'valid');
    now = new Date(now.getTime() + 8 * 24 * 3600 * 1000);
    assert.equal(await status('invitation', second), 'expired');

    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/link-status',
      payload: { kind: 'x', token: 't' },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ errors: { field: string }[] }>().errors[0]?.field, 'kind');
    await app.close();
  });
});
