// The session idle timeout, on the application's clock: a session unused past the timeout is
// refused (401) and deleted; use keeps it alive, recorded at most once a minute; the 14-day life
// still ends an active one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { DEFAULT_SESSION_IDLE_MS } from '../../src/http/auth/idle.ts';
import { eachDatabase } from '../helpers/databases.ts';
import type { Harness } from './support.ts';
import { PASSWORD, apiHarness } from './support.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Signs `email` in through the API: the session a browser would hold. */
async function signIn(h: Harness, email = 'viewer@example.com') {
  const response = await h.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password: PASSWORD },
  });
  assert.equal(response.statusCode, 200);
  const cookie = String(response.headers['set-cookie']).split(';')[0] as string;
  return { cookie, 'x-csrf-token': response.json().csrf_token as string };
}

async function lastSeen(h: Harness): Promise<Date[]> {
  const { rows } = await h.db.query<{ last_seen_at: Date | string }>(
    `SELECT s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE u.email = 'viewer@example.com' ORDER BY s.id`,
  );
  return rows.map((r) => new Date(r.last_seen_at));
}

const whoAmI = (h: Harness, headers: Record<string, string>): Promise<LightMyRequestResponse> =>
  h.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers });

eachDatabase((kind) => {
  test('idle past 12 hours: refused with 401 and deleted; any use before that keeps the session', async () => {
    assert.equal(DEFAULT_SESSION_IDLE_MS, 12 * HOUR);
    const h = await apiHarness(kind);
    const session = await signIn(h);
    const signedInAt = h.clock.now();
    assert.deepEqual(await lastSeen(h), [signedInAt]);

    h.clock.advance(12 * HOUR - MINUTE);
    assert.equal((await whoAmI(h, session)).statusCode, 200);
    assert.deepEqual(await lastSeen(h), [h.clock.now()], 'the use is recorded');
    // Another 11 h 59 min: long past 12 h since sign-in, but not since the last use.
    h.clock.advance(12 * HOUR - MINUTE);
    assert.equal((await whoAmI(h, session)).statusCode, 200);

    h.clock.advance(12 * HOUR);
    const refused = await whoAmI(h, session);
    assert.equal(refused.statusCode, 401);
    assert.match(String(refused.headers['content-type']), /application\/problem\+json/);
    assert.deepEqual(await lastSeen(h), [], 'the idle session is deleted');
    // A write with the dead cookie changes nothing either.
    const change = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: session,
      payload: { current_password: PASSWORD, new_password: 'another long passphrase 7' },
    });
    assert.equal(change.statusCode, 401);
    assert.equal((await signIn(h)).cookie.startsWith('billflow_session='), true, 'the old password still works');
    await h.app.close();
  });

  test('a use is written at most once a minute, not on every request', async () => {
    const h = await apiHarness(kind);
    const session = await signIn(h);
    const signedInAt = h.clock.now();
    for (let i = 0; i < 5; i++) {
      h.clock.advance(10_000);
      assert.equal((await whoAmI(h, session)).statusCode, 200);
    }
    assert.deepEqual(await lastSeen(h), [signedInAt], '50 s of requests: no write');
    h.clock.advance(10_000);
    assert.equal((await whoAmI(h, session)).statusCode, 200);
    assert.deepEqual(await lastSeen(h), [h.clock.now()], 'a minute on: one write');
    await h.app.close();
  });

  test('the timeout is configurable; idle sessions leave the list of live sessions', async () => {
    const h = await apiHarness(kind, { sessionIdleMs: 30 * MINUTE });
    const idle = await signIn(h);
    const active = await signIn(h);
    h.clock.advance(20 * MINUTE);
    assert.equal((await whoAmI(h, active)).statusCode, 200);
    h.clock.advance(10 * MINUTE);
    const list = await h.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: active });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(
      (list.json().items as { current: boolean }[]).map((s) => s.current),
      [true],
      'only the session in use is listed',
    );
    assert.equal((await whoAmI(h, idle)).statusCode, 401);
    assert.equal((await lastSeen(h)).length, 1);
    assert.equal((await whoAmI(h, active)).statusCode, 200);
    await h.app.close();
  });

  test('activity does not outlive the 14-day session life', async () => {
    const h = await apiHarness(kind);
    const session = await signIn(h);
    // Used every 11 hours: never idle, yet the session ends 14 days after sign-in.
    let elapsed = 0;
    for (; elapsed + 11 * HOUR < 14 * 24 * HOUR; elapsed += 11 * HOUR) {
      h.clock.advance(11 * HOUR);
      assert.equal((await whoAmI(h, session)).statusCode, 200, `after ${(elapsed + 11 * HOUR) / HOUR} h`);
    }
    h.clock.advance(14 * 24 * HOUR - elapsed);
    assert.equal((await whoAmI(h, session)).statusCode, 401);
    await h.app.close();
  });
});
