import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { ensureSetupToken } from '../../src/http/auth/setup.ts';
import { ConflictError } from '../../src/errors.ts';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  createClaimHolder,
  requestHash,
} from '../../src/http/idempotency.ts';
import type { ClaimHolder } from '../../src/http/idempotency.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { PASSWORD, apiHarness, snapshot } from './support.ts';

function cookieOf(response: LightMyRequestResponse): string {
  const header = response.headers['set-cookie'];
  const first = Array.isArray(header) ? header[0] : header;
  assert.ok(first, 'no Set-Cookie');
  return first;
}

function sessionHeaders(response: LightMyRequestResponse): Record<string, string> {
  return { cookie: cookieOf(response).split(';')[0] as string, 'x-csrf-token': response.json().csrf_token };
}

eachDatabase((kind) => {
  test('login sets an HttpOnly, SameSite=Lax cookie, Secure only over HTTPS through a trusted proxy', async () => {
    const h = await apiHarness(kind);
    const body = { email: 'viewer@example.com', password: PASSWORD };
    const plain = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: body });
    assert.equal(plain.statusCode, 200);
    const cookie = cookieOf(plain);
    assert.match(cookie, /^billflow_session=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.match(cookie, /; Path=\//);
    assert.doesNotMatch(cookie, /Secure/);
    // Without trust proxy a forwarded header is not believed.
    const forged = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: body,
      headers: { 'x-forwarded-proto': 'https' },
    });
    assert.doesNotMatch(cookieOf(forged), /Secure/);
    await h.app.close();

    const proxied = await apiHarness(kind, { trustProxy: true });
    const https = await proxied.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: body,
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' },
    });
    assert.equal(https.statusCode, 200);
    assert.match(cookieOf(https), /; Secure/);
    const { rows } = await proxied.db.query<{ source_ip: string }>(
      `SELECT source_ip FROM audit_log WHERE action = 'auth.login'`,
    );
    assert.deepEqual(
      rows.map((r) => r.source_ip),
      ['203.0.113.9'],
    );
    // The session works, and GET /auth/session hands the CSRF token back.
    const headers = sessionHeaders(https);
    const session = await proxied.app.inject({
      method: 'GET',
      url: '/api/v1/auth/session',
      headers: { cookie: headers.cookie as string },
    });
    assert.equal(session.statusCode, 200);
    assert.equal(session.json().csrf_token, headers['x-csrf-token']);
    assert.equal(session.json().principal.email, 'viewer@example.com');
    await proxied.app.close();
  });

  test('repeated failed logins lock the account, then the source address; both are audited and expire', async () => {
    const h = await apiHarness(kind);
    const attempt = (email: string, password: string, ip = '198.51.100.1') =>
      h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress: ip });
    for (let i = 0; i < 5; i++)
      assert.equal((await attempt('developer@example.com', 'wrong password')).statusCode, 401);
    // Locked: even the right password is refused, with Retry-After.
    const locked = await attempt('developer@example.com', PASSWORD, '198.51.100.2');
    assert.equal(locked.statusCode, 429);
    assert.equal(locked.headers['retry-after'], String(15 * 60));
    assert.match(String(locked.headers['content-type']), /application\/problem\+json/);
    // Other accounts from other addresses are unaffected.
    assert.equal((await attempt('viewer@example.com', PASSWORD, '198.51.100.2')).statusCode, 200);
    const { rows } = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.login_failed' AND target = 'developer@example.com' AND source_ip IS NOT NULL`,
    );
    assert.equal(rows[0]?.n, 6);
    // After the lockout the account works again.
    h.clock.advance(15 * 60_000 + 1000);
    assert.equal((await attempt('developer@example.com', PASSWORD)).statusCode, 200);

    // Per address: 20 failures over many accounts lock the address out, for any account.
    for (let i = 0; i < 20; i++)
      assert.equal((await attempt(`nobody${i}@example.com`, 'x', '192.0.2.7')).statusCode, 401);
    assert.equal((await attempt('admin@example.com', PASSWORD, '192.0.2.7')).statusCode, 429);
    assert.equal((await attempt('admin@example.com', PASSWORD, '192.0.2.8')).statusCode, 200);
    await h.app.close();
  });

  test('the setup token creates the first admin once, and only while no user exists', async () => {
    const h = await apiHarness(kind);
    assert.equal(await ensureSetupToken(h.db), null, 'users exist: no setup token');
    await h.app.close();

    const { freshDatabase } = await import('../helpers/databases.ts');
    const { buildServer } = await import('../../src/http/server.ts');
    const { db } = await freshDatabase(kind);
    const app = buildServer({ db });
    const stale = await ensureSetupToken(db);
    const token = await ensureSetupToken(db);
    assert.ok(stale && token && stale !== token);
    const { rows: stored } = await db.query<{ token_hash: string }>('SELECT token_hash FROM setup_tokens');
    assert.ok(
      stored.every((r) => r.token_hash !== token),
      'stored hashed',
    );
    const setup = (t: string, email: string) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/setup', payload: { token: t, email, password: PASSWORD } });
    const old = await setup(stale, 'first@example.com');
    assert.equal(old.statusCode, 400, 'only the newest token counts');
    assert.equal(old.json().errors[0].field, 'token');
    const first = await setup(token, 'first@example.com');
    assert.equal(first.statusCode, 201);
    assert.equal(first.json().user.role, 'admin');
    const again = await setup(token, 'second@example.com');
    assert.equal(again.statusCode, 400);
    const { rows } = await db.query<{ email: string }>('SELECT email FROM users');
    assert.deepEqual(rows, [{ email: 'first@example.com' }]);
    assert.equal(await ensureSetupToken(db), null);
    // The new admin is signed in and may act.
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: { cookie: sessionHeaders(first).cookie as string },
    });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().items.length, 1);
    await app.close();
  });

  test('logout, own sessions, and a password change that ends the other sessions', async () => {
    const h = await apiHarness(kind);
    const login = () =>
      h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'viewer@example.com', password: PASSWORD },
      });
    const a = sessionHeaders(await login());
    const b = sessionHeaders(await login());
    const c = sessionHeaders(await login());
    const sessions = await h.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: a });
    assert.equal(sessions.statusCode, 200);
    const items = sessions.json().items as { id: string; current: boolean }[];
    assert.equal(items.length, 3);
    assert.equal(items.filter((s) => s.current).length, 1);
    const other = items.find((s) => !s.current) as { id: string };
    // Someone else's session is not yours to end.
    const foreign = await h.app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${other.id}`,
      headers: await h.session('admin'),
    });
    assert.equal(foreign.statusCode, 404);
    const wrong = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: a,
      payload: { current_password: 'not it at all', new_password: 'another long passphrase' },
    });
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json().errors[0].field, 'current_password');
    const changed = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: a,
      payload: { current_password: PASSWORD, new_password: 'another long passphrase' },
    });
    assert.equal(changed.statusCode, 204);
    for (const headers of [b, c]) {
      const r = await h.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers });
      assert.equal(r.statusCode, 401, 'other sessions ended');
    }
    assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: a })).statusCode, 200);
    const relogin = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'viewer@example.com', password: 'another long passphrase' },
    });
    assert.equal(relogin.statusCode, 200);
    const logout = await h.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: a });
    assert.equal(logout.statusCode, 204);
    assert.match(cookieOf(logout), /billflow_session=;/);
    assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: a })).statusCode, 401);
    const { rows } = await h.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE actor = $1 ORDER BY id`, [
      `user:${h.users.viewer.id}`,
    ]);
    assert.deepEqual(
      rows.map((r) => r.action),
      ['auth.login', 'auth.login', 'auth.login', 'user.password_change', 'auth.login', 'auth.logout'],
    );
    await h.app.close();
  });

  test('an API key is shown once, stored only hashed, records its last use, and dies when revoked or expired', async () => {
    const h = await apiHarness(kind);
    const admin = await h.session('admin');
    const created = await h.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { ...admin, 'idempotency-key': 'create-ci-key' },
      payload: { name: 'ci', role: 'developer', expires_at: '2026-03-02T10:00:00Z' },
    });
    assert.equal(created.statusCode, 201);
    const { key, api_key: record } = created.json() as {
      key: string;
      api_key: { id: string; prefix: string; last_used_at: null };
    };
    assert.match(key, /^bf_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    assert.ok(key.startsWith(`${record.prefix}_`));
    // The database never holds the key in clear: not in any column of any table.
    const { rows: tables } = await h.db.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    for (const { name } of tables) {
      const secretPart = key.slice(record.prefix.length + 1);
      const { rows } = await h.db.query(`SELECT 1 FROM "${name}" x WHERE strpos(x::text, $1) > 0`, [secretPart]);
      assert.equal(rows.length, 0, `the key appears in ${name}`);
    }
    // Replay: the same record, but the key is not shown again.
    const replay = await h.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { ...admin, 'idempotency-key': 'create-ci-key' },
      payload: { name: 'ci', role: 'developer', expires_at: '2026-03-02T10:00:00Z' },
    });
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.json().key, null);
    assert.deepEqual(replay.json().api_key, created.json().api_key);
    const listed = await h.app.inject({
      method: 'GET',
      url: '/api/v1/api-keys?limit=200',
      headers: h.apiKey('developer'),
    });
    assert.ok(!listed.body.includes(key.slice(12)));
    // Using it records the time of use.
    h.clock.advance(60_000);
    const me = await h.app.inject({
      method: 'GET',
      url: '/api/v1/auth/session',
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(me.statusCode, 200);
    assert.deepEqual(me.json().principal, {
      kind: 'api_key',
      id: record.id,
      role: 'developer',
      email: null,
      name: 'ci',
    });
    const { rows } = await h.db.query<{ last_used_at: Date }>('SELECT last_used_at FROM api_keys WHERE id = $1', [
      record.id,
    ]);
    assert.equal(new Date(rows[0]?.last_used_at as Date).toISOString(), h.clock.now().toISOString());
    // Within the minute a use writes nothing; once it has passed, the next use moves the time.
    const lastUsed = async () => {
      const { rows: now } = await h.db.query<{ last_used_at: Date }>(
        'SELECT last_used_at FROM api_keys WHERE id = $1',
        [record.id],
      );
      return new Date(now[0]?.last_used_at as Date).toISOString();
    };
    const useKey = async () => {
      const answer = await h.app.inject({
        method: 'GET',
        url: '/api/v1/auth/session',
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(answer.statusCode, 200);
    };
    const recorded = h.clock.now().toISOString();
    h.clock.advance(30_000);
    await useKey();
    assert.equal(await lastUsed(), recorded, 'the use of the minute is recorded already');
    h.clock.advance(31_000);
    await useKey();
    assert.equal(await lastUsed(), h.clock.now().toISOString());
    // A developer key cannot mint an admin key.
    const escalate = await h.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: `Bearer ${key}` },
      payload: { name: 'up', role: 'admin' },
    });
    assert.equal(escalate.statusCode, 403);
    // Expiry.
    h.clock.advance(24 * 3600_000);
    assert.equal(
      (await h.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { authorization: `Bearer ${key}` } }))
        .statusCode,
      401,
    );
    h.clock.advance(-24 * 3600_000);
    // Revocation, audited.
    const revoked = await h.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${record.id}`, headers: admin });
    assert.equal(revoked.statusCode, 200);
    assert.ok(revoked.json().revoked_at);
    assert.equal(
      (await h.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { authorization: `Bearer ${key}` } }))
        .statusCode,
      401,
    );
    const audit = await h.app.inject({
      method: 'GET',
      url: `/api/v1/audit?target=api_key:${record.id}`,
      headers: admin,
    });
    assert.deepEqual(
      audit.json().items.map((e: { action: string }) => e.action),
      ['api_key.revoke', 'api_key.create'],
    );
    await h.app.close();
  });

  test('Idempotency-Key: same body replays, another body is a 409 that changes nothing, keys are per caller', async () => {
    const h = await apiHarness(kind);
    const admin = await h.session('admin');
    const post = (headers: Record<string, string>, payload: object) =>
      h.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { ...headers, 'idempotency-key': 'invite-1' },
        payload,
      });
    const first = await post(admin, { email: 'new@example.com', role: 'viewer' });
    assert.equal(first.statusCode, 201);
    assert.ok(first.json().invite_token);
    // Key order does not make a different request.
    const again = await post(admin, { role: 'viewer', email: 'new@example.com' });
    assert.equal(again.statusCode, 201);
    assert.equal(again.json().user.id, first.json().user.id);
    assert.equal(again.json().invite_token, null);
    const before = await snapshot(h.db);
    const conflict = await post(admin, { email: 'other@example.com', role: 'viewer' });
    assert.equal(conflict.statusCode, 409);
    assert.equal(conflict.json().errors[0].field, 'Idempotency-Key');
    assert.deepEqual(await snapshot(h.db), before);
    // Another caller with the same key is another request.
    const byKey = await post(h.apiKey('admin'), { email: 'other@example.com', role: 'viewer' });
    assert.equal(byKey.statusCode, 201);
    // A refused request does not burn its key: fixing the body and retrying works.
    const invalid = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { ...admin, 'idempotency-key': 'invite-2' },
      payload: { email: 'new@example.com', role: 'viewer' },
    });
    assert.equal(invalid.statusCode, 409, 'duplicate email');
    const fixed = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { ...admin, 'idempotency-key': 'invite-2' },
      payload: { email: 'third@example.com', role: 'viewer' },
    });
    assert.equal(fixed.statusCode, 201);
    const { rows } = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM users WHERE email LIKE '%@example.com' AND role = 'viewer'`,
    );
    assert.equal(rows[0]?.n, 4, 'viewer@, new@, other@, third@');
    // The invited user sets a password with the token and is signed in.
    const accept = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/invitation',
      payload: { token: first.json().invite_token, password: 'my own long password' },
    });
    assert.equal(accept.statusCode, 200);
    assert.equal(accept.json().user.email, 'new@example.com');
    const reuse = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/invitation',
      payload: { token: first.json().invite_token, password: 'my own long password' },
    });
    assert.equal(reuse.statusCode, 400);
    await h.app.close();
  });

  test('admins change roles and deactivate users; the last admin stays; the audit log filters and pages', async () => {
    const h = await apiHarness(kind);
    const admin = await h.session('admin');
    const target = h.users.customer_support.id;
    const victim = await h.session('customer_support');
    const promote = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${target}`,
      headers: admin,
      payload: { role: 'account_manager', reason: 'team change' },
    });
    assert.equal(promote.statusCode, 200);
    assert.equal(promote.json().role, 'account_manager');
    const deactivate = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${target}`,
      headers: admin,
      payload: { active: false },
    });
    assert.equal(deactivate.statusCode, 200);
    assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: victim })).statusCode, 401);
    const login = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'customer_support@example.com', password: PASSWORD },
    });
    assert.equal(login.statusCode, 401);
    const last = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${h.users.admin.id}`,
      headers: admin,
      payload: { role: 'viewer' },
    });
    assert.equal(last.statusCode, 409);
    // Audit: filter by action and target, then page through everything one entry at a time.
    const byAction = await h.app.inject({ method: 'GET', url: '/api/v1/audit?action=user.update', headers: admin });
    const entries = byAction.json().items as {
      target: string;
      reason: string | null;
      actor: string;
      actor_name: string;
      details: { to: { role: string } };
    }[];
    assert.equal(entries.length, 2);
    assert.ok(entries.every((e) => e.target === `user:${target}` && e.actor === `user:${h.users.admin.id}`));
    // People are named as they know each other: by email.
    assert.ok(entries.every((e) => e.actor_name === 'admin@example.com'));
    assert.equal(entries[1]?.reason, 'team change');
    assert.equal(entries[1]?.details.to.role, 'account_manager');
    const all = await h.app.inject({ method: 'GET', url: '/api/v1/audit?limit=200', headers: admin });
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/audit?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await h.app.inject({ method: 'GET', url, headers: admin });
      ids.push(...page.json().items.map((e: { id: string }) => e.id));
      cursor = page.json().next_cursor;
    } while (cursor);
    assert.deepEqual(
      ids,
      all.json().items.map((e: { id: string }) => e.id),
    );
    const future = await h.app.inject({
      method: 'GET',
      url: '/api/v1/audit?from=2030-01-01T00:00:00Z',
      headers: admin,
    });
    assert.equal(future.json().items.length, 0);
    const tampered = await h.app.inject({ method: 'GET', url: '/api/v1/audit?cursor=bm9wZQ', headers: admin });
    assert.equal(tampered.statusCode, 400);
    assert.equal(tampered.json().errors[0].field, 'cursor');
    await h.app.close();
  });

  test('an Idempotency-Key claim is a 409 with Retry-After while in flight, and dies with its request', async () => {
    const h = await apiHarness(kind);
    const here = createClaimHolder(h.db);
    const t0 = new Date('2026-03-01T10:00:00Z');
    const claim = async (request: ReturnType<ClaimHolder['begin']>, hash = 'h1', holder = here) =>
      claimIdempotencyKey(h.db, {
        principal: 'user:u',
        key: 'k',
        hash,
        now: t0,
        holder: await holder.id(),
        inFlight: request.inFlight,
      });
    const stillRunning = (e: unknown) =>
      e instanceof ConflictError && /still being processed/.test(e.message) && e.details.retry_after === 1;
    const first = here.begin('user:u', 'k');
    assert.deepEqual(await claim(first), { kind: 'claimed' });
    const second = here.begin('user:u', 'k');
    await assert.rejects(claim(second), stillRunning);
    await assert.rejects(claim(second, 'h2'), (e) => e instanceof ConflictError && /different request/.test(e.message));
    second.end();
    // The first request ends without completing or releasing its claim (say the database was
    // unreachable for its release): the claim is dead at once, the next request takes it over.
    first.end();
    const third = here.begin('user:u', 'k');
    assert.deepEqual(await claim(third), { kind: 'claimed' });
    await completeIdempotencyKey(h.db, { principal: 'user:u', key: 'k', status: 201, body: { id: 'x' } });
    third.end();
    assert.deepEqual(await claim(here.begin('user:u', 'k')), { kind: 'replay', status: 201, body: { id: 'x' } });

    // Over HTTP: another server (in this process: present) holds the key of this very request.
    const admin = await h.session('admin');
    const body = { email: 'inflight@example.com', role: 'viewer' };
    const other = createClaimHolder(h.db);
    const theirs = other.begin(`user:${h.users.admin.id}`, 'invite-inflight');
    assert.equal(
      (
        await claimIdempotencyKey(h.db, {
          principal: `user:${h.users.admin.id}`,
          key: 'invite-inflight',
          hash: requestHash('POST', '/api/v1/users', body),
          now: t0,
          holder: await other.id(),
          inFlight: theirs.inFlight,
        })
      ).kind,
      'claimed',
    );
    const busy = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { ...admin, 'idempotency-key': 'invite-inflight' },
      payload: body,
    });
    assert.equal(busy.statusCode, 409, busy.body);
    assert.equal(busy.headers['retry-after'], '1');
    assert.match(busy.json().detail, /still being processed/);
    assert.equal(busy.json().errors[0].field, 'Idempotency-Key');
    const { rows } = await h.db.query("SELECT 1 FROM users WHERE email = 'inflight@example.com'");
    assert.equal(rows.length, 0, 'nothing done while the first request is in flight');
    await h.app.close();
  });
});
