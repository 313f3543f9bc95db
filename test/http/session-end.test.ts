// Why a browser's session ended, asked after a 401 so the sign-in page can explain it: a password
// changed in another session, a deactivation, a sign-out from another session, expiry; null while
// the session is live or without a cookie.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eachDatabase } from '../helpers/databases.ts';
import { PASSWORD, apiHarness } from './support.ts';

eachDatabase((kind) => {
  test('session-end names why a cookie no longer signs in', async () => {
    const h = await apiHarness(kind);
    const reason = async (headers: Record<string, string> = {}) => {
      const r = await h.app.inject({ method: 'GET', url: '/api/v1/auth/session-end', headers });
      assert.equal(r.statusCode, 200, r.body);
      return r.json<{ reason: string | null }>().reason;
    };
    const signedIn = async (headers: Record<string, string>) =>
      (await h.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers })).statusCode;
    assert.equal(await reason(), null, 'no cookie');
    assert.equal(await reason({ cookie: 'billflow_session=nonsense' }), 'ended');

    // Two browsers of one person; the password is changed in one of them.
    const here = await h.newSession('viewer');
    const there = await h.newSession('viewer');
    assert.equal(await reason(here), null, 'live');
    const changed = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: there,
      payload: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
    });
    assert.equal(changed.statusCode, 204, changed.body);
    assert.equal(await signedIn(here), 401);
    assert.equal(await reason(here), 'password_changed');
    assert.equal(await reason(there), null, 'the changing session lives on');
    const { rows } = await h.db.query<{ revoked: boolean }>(
      'SELECT revoked_at IS NOT NULL AS revoked FROM sessions WHERE user_id = $1 ORDER BY id',
      [h.users.viewer.id],
    );
    assert.deepEqual(
      rows.map((r) => r.revoked),
      [true, false],
    );

    // Ended from another session of the same person.
    const phone = await h.newSession('customer_support');
    const laptop = await h.newSession('customer_support');
    const list = await h.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: laptop });
    const phoneSession = list.json<{ items: { id: string; current: boolean }[] }>().items.find((s) => !s.current);
    assert.ok(phoneSession);
    const end = await h.app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${phoneSession.id}`,
      headers: laptop,
    });
    assert.equal(end.statusCode, 204, end.body);
    assert.equal(await reason(phone), 'signed_out');

    // Deactivated by an admin.
    const dev = await h.newSession('developer');
    const off = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${h.users.developer.id}`,
      headers: await h.session('admin'),
      payload: { active: false },
    });
    assert.equal(off.statusCode, 200, off.body);
    assert.equal(await reason(dev), 'deactivated');

    // Past its lifetime (the harness's sessions live an hour).
    const old = await h.newSession('account_manager');
    h.clock.advance(2 * 3600 * 1000);
    assert.equal(await reason(old), 'expired');
    await h.app.close();
  });
});
