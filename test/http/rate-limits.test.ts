// Request rate limits: sign-in and invitations per source address, password changes per user,
// and every API-key request per key. A refused request is a 429 problem with Retry-After that
// changed nothing; the window is a minute on the limiter's own clock, which the tests advance.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createInvite } from '../../src/http/auth/setup.ts';
import { insertUser } from '../../src/http/auth/users.ts';
import { problem } from '../../src/http/problem.ts';
import { DEFAULT_RATE_LIMITS } from '../../src/http/rate-limits.ts';
import type { RateLimits } from '../../src/http/rate-limits.ts';
import { eachDatabase } from '../helpers/databases.ts';
import type { DatabaseKind } from '../../src/db/types.ts';
import { PASSWORD, apiHarness } from './support.ts';

const NEW_PASSWORD = 'a different passphrase 99';

function assertLimited(response: LightMyRequestResponse, retryAfter: number, detail: RegExp): void {
  assert.equal(response.statusCode, 429, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  assert.equal(response.headers['retry-after'], String(retryAfter));
  const body = response.json();
  assert.match(body.detail, detail);
  // The same shape as every other problem, the login lockout's 429 included.
  assert.deepEqual(body, problem(429, body.detail, { retry_after: retryAfter }));
}

/** A harness whose limits are `limits` per minute, counted on a clock the test moves. */
async function limitedHarness(kind: DatabaseKind, limits: Partial<RateLimits>) {
  let t = Date.parse('2026-03-01T10:00:00Z');
  const h = await apiHarness(kind, { rateLimits: { ...limits, now: () => t } });
  return { h, advance: (ms: number) => (t += ms) };
}

eachDatabase((kind) => {
  test('sign-in: per source address; the refused attempt reaches neither the lockout nor the audit log', async () => {
    const { h, advance } = await limitedHarness(kind, { login: 3 });
    const login = (password: string, ip = '198.51.100.1') =>
      h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'viewer@example.com', password },
        remoteAddress: ip,
      });
    for (let i = 0; i < 3; i++) assert.equal((await login('wrong password')).statusCode, 401);
    advance(20_000);
    // Even the right password: the address has used its minute.
    assertLimited(await login(PASSWORD), 40, /too many sign-in attempts from this address; try again in 40 s/);
    const { rows: throttle } = await h.db.query<{ failures: number }>(
      `SELECT failures FROM login_throttle WHERE key = 'account:viewer@example.com'`,
    );
    assert.equal(throttle[0]?.failures, 3);
    const { rows: audited } = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE action IN ('auth.login', 'auth.login_failed')`,
    );
    assert.equal(audited[0]?.n, 3);
    // Another address is counted on its own; IPv6 addresses per /64.
    assert.equal((await login(PASSWORD, '198.51.100.2')).statusCode, 200);
    for (let i = 0; i < 3; i++) assert.equal((await login(PASSWORD, `2001:db8:1:1::${i + 1}`)).statusCode, 200);
    assert.equal((await login(PASSWORD, '2001:db8:1:1::99')).statusCode, 429);
    assert.equal((await login(PASSWORD, '2001:db8:1:2::1')).statusCode, 200);
    // The next minute starts afresh.
    advance(40_000);
    assert.equal((await login(PASSWORD)).statusCode, 200);
    await h.app.close();
  });

  test('password change: per user; a refused change keeps the old password', async () => {
    const { h, advance } = await limitedHarness(kind, { passwordChange: 2 });
    const change = async (role: 'viewer' | 'developer', current: string, next: string) =>
      h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: await h.session(role),
        payload: { current_password: current, new_password: next },
      });
    assert.equal((await change('viewer', 'not it', NEW_PASSWORD)).statusCode, 400);
    assert.equal((await change('viewer', 'not it either', NEW_PASSWORD)).statusCode, 400);
    const { rows: before } = await h.db.query<{ password_hash: string }>(
      `SELECT password_hash FROM users WHERE email = 'viewer@example.com'`,
    );
    assertLimited(await change('viewer', PASSWORD, NEW_PASSWORD), 60, /too many password changes/);
    const { rows: after } = await h.db.query<{ password_hash: string }>(
      `SELECT password_hash FROM users WHERE email = 'viewer@example.com'`,
    );
    assert.equal(after[0]?.password_hash, before[0]?.password_hash);
    // Another user is not held back; the viewer is, a minute later, no longer.
    assert.equal((await change('developer', PASSWORD, NEW_PASSWORD)).statusCode, 204);
    advance(60_000);
    assert.equal((await change('viewer', PASSWORD, NEW_PASSWORD)).statusCode, 204);
    await h.app.close();
  });

  test('invitation acceptance: per source address; a refused one leaves the invitation unused', async () => {
    const { h } = await limitedHarness(kind, { invitation: 2 });
    const user = await insertUser(h.db, {
      email: 'new@example.com',
      role: 'viewer',
      passwordHash: null,
      now: h.clock.now(),
    });
    const token = await createInvite(h.db, user.id, h.clock.now());
    const accept = (t: string, ip = '203.0.113.5') =>
      h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/invitation',
        payload: { token: t, password: NEW_PASSWORD },
        remoteAddress: ip,
      });
    assert.equal((await accept('a'.repeat(43))).statusCode, 400);
    assert.equal((await accept('b'.repeat(43))).statusCode, 400);
    assertLimited(await accept(token), 60, /too many attempts from this address/);
    const { rows } = await h.db.query<{ used_at: Date | null; password_hash: string | null }>(
      `SELECT t.used_at, u.password_hash FROM setup_tokens t JOIN users u ON u.id = t.user_id WHERE u.id = $1`,
      [user.id],
    );
    assert.deepEqual(rows, [{ used_at: null, password_hash: null }]);
    // First-run setup shares the limit.
    const setup = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/setup',
      payload: { token: 'c'.repeat(43), email: 'x@example.com', password: NEW_PASSWORD },
      remoteAddress: '203.0.113.5',
    });
    assert.equal(setup.statusCode, 429);
    assert.equal((await accept(token, '203.0.113.6')).statusCode, 200);
    await h.app.close();
  });

  test('API keys: every request counts against its key; sessions and other keys are not held back', async () => {
    const { h, advance } = await limitedHarness(kind, { apiKey: 3 });
    const get = (headers: Record<string, string>) => h.app.inject({ method: 'GET', url: '/api/v1/customers', headers });
    const first = await get(h.apiKey('admin'));
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['x-ratelimit-limit'], '3');
    assert.equal(first.headers['x-ratelimit-remaining'], '2');
    assert.equal((await get(h.apiKey('admin'))).statusCode, 200);
    assert.equal((await get(h.apiKey('admin'))).statusCode, 200);
    advance(1_500);
    // A write refused by the limit stores nothing.
    const create = await h.app.inject({
      method: 'POST',
      url: '/api/v1/customers',
      headers: h.apiKey('admin'),
      payload: { email: 'limited@example.com' },
    });
    assertLimited(create, 59, /too many requests with this API key; try again in 59 s/);
    const { rows } = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    assert.equal(rows[0]?.n, 0);
    assert.equal((await get(h.apiKey('developer'))).statusCode, 200, 'another key');
    for (let i = 0; i < 5; i++) assert.equal((await get(await h.session('admin'))).statusCode, 200, 'a session');
    // A bad key is refused as such (401), not counted against anyone.
    assert.equal((await get({ authorization: 'Bearer bf_nothing' })).statusCode, 401);
    advance(58_500);
    assert.equal((await get(h.apiKey('admin'))).statusCode, 200);
    await h.app.close();
  });

  test('0 turns a limit off; the defaults are what an operator gets without settings', async () => {
    const { h } = await limitedHarness(kind, { apiKey: 0, login: 0 });
    for (let i = 0; i < 40; i++) {
      const response = await h.app.inject({ method: 'GET', url: '/api/v1/customers', headers: h.apiKey('admin') });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['x-ratelimit-limit'], undefined);
    }
    await h.app.close();
    assert.deepEqual(DEFAULT_RATE_LIMITS, { login: 30, passwordChange: 5, invitation: 10, apiKey: 6000 });
    const defaults = await apiHarness(kind);
    const response = await defaults.app.inject({
      method: 'GET',
      url: '/api/v1/customers',
      headers: defaults.apiKey('admin'),
    });
    assert.equal(response.headers['x-ratelimit-limit'], '6000');
    await defaults.app.close();
  });
});
