import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { TEST_DATABASES, freshDatabase } from '../helpers/databases.ts';
import { adminSocketPath } from '../../src/http/admin-socket.ts';
import { billflow, startServer } from '../helpers/cli.ts';

const PASSWORD = 'a very long cli password';

async function login(url: string, email: string, password: string): Promise<number> {
  const response = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return response.status;
}

async function whoami(url: string, key: string): Promise<{ status: number; role?: string }> {
  const response = await fetch(`${url}/api/v1/auth/session`, { headers: { authorization: `Bearer ${key}` } });
  const body = (await response.json()) as { principal?: { role: string } };
  return { status: response.status, role: body.principal?.role };
}

async function createBoth(env: Record<string, string>, cwd: string, tag: string) {
  const user = await billflow(
    ['user', 'create', '--email', `${tag}@example.com`, '--role', 'developer'],
    env,
    cwd,
    `${PASSWORD}\n`,
  );
  assert.equal(user.code, 0, user.stderr);
  assert.match(user.stdout, new RegExp(`created user ${tag}@example.com \\(developer\\)`));
  const key = await billflow(['api-key', 'create', '--name', tag, '--role', 'viewer'], env, cwd);
  assert.equal(key.code, 0, key.stderr);
  const printed = key.stdout.trim();
  assert.match(printed, /^bf_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
  return printed;
}

test('user create and api-key create on the embedded database, without and then with a server on it', async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-admin-'));
  const env = { BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
  try {
    // No server: the CLI opens the folder itself.
    const offlineKey = await createBoth(env, cwd, 'offline');
    const bad = await billflow(
      ['user', 'create', '--email', 'x@example.com', '--role', 'king'],
      env,
      cwd,
      `${PASSWORD}\n`,
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--role: must be one of/);
    const short = await billflow(
      ['user', 'create', '--email', 'y@example.com', '--role', 'viewer'],
      env,
      cwd,
      'short\n',
    );
    assert.equal(short.code, 1);
    assert.match(short.stderr, /--password: must be at least 12 characters/);

    const server = startServer(cwd, env);
    try {
      const url = await server.url;
      // What the offline CLI made works against the server.
      assert.equal(await login(url, 'offline@example.com', PASSWORD), 200);
      assert.deepEqual(await whoami(url, offlineKey), { status: 200, role: 'viewer' });
      // With the server holding the folder, the CLI goes through its socket, reachable by the owner only.
      const socket = adminSocketPath(env.BILLFLOW_DATA_DIR);
      assert.equal((await stat(path.dirname(socket))).mode & 0o777, 0o700);
      assert.equal((await stat(socket)).mode & 0o777, 0o600);
      const onlineKey = await createBoth(env, cwd, 'online');
      assert.equal(await login(url, 'online@example.com', PASSWORD), 200);
      assert.equal(await login(url, 'online@example.com', 'not the password'), 401);
      assert.deepEqual(await whoami(url, onlineKey), { status: 200, role: 'viewer' });
      const duplicate = await billflow(
        ['user', 'create', '--email', 'ONLINE@example.com', '--role', 'viewer'],
        env,
        cwd,
        `${PASSWORD}\n`,
      );
      assert.equal(duplicate.code, 1);
      assert.match(duplicate.stderr, /already exists/);
    } finally {
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    }
    // Server gone: direct access again, and the socket no longer answers.
    await createBoth(env, cwd, 'after');
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});

test('user create and api-key create on PostgreSQL', { skip: !TEST_DATABASES.includes('postgres') }, async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-admin-pg-'));
  const { db, url } = await freshDatabase('postgres', { migrate: false });
  const env = { DATABASE_URL: url as string, BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
  try {
    const key = await createBoth(env, cwd, 'pg');
    const { rows: users } = await db.query<{ email: string; role: string; password_hash: string }>(
      'SELECT email, role, password_hash FROM users',
    );
    assert.deepEqual(
      users.map((u) => [u.email, u.role]),
      [['pg@example.com', 'developer']],
    );
    assert.match(users[0]?.password_hash ?? '', /^\$argon2id\$/);
    const { rows: keys } = await db.query<{ key_hash: string; prefix: string }>(
      'SELECT key_hash, prefix FROM api_keys',
    );
    assert.equal(keys.length, 1);
    assert.ok(key.startsWith(`${keys[0]?.prefix}_`));
    const { rows: audit } = await db.query<{ actor: string; action: string }>(
      'SELECT actor, action FROM audit_log ORDER BY id',
    );
    assert.deepEqual(
      audit.map((a) => `${a.actor} ${a.action}`),
      [`cli:${userInfo().username} user.create`, `cli:${userInfo().username} api_key.create`],
    );
    // A server on the same database sees them.
    const server = startServer(cwd, env);
    try {
      const base = await server.url;
      assert.equal(await login(base, 'pg@example.com', PASSWORD), 200);
      assert.deepEqual(await whoami(base, key), { status: 200, role: 'viewer' });
      await createBoth(env, cwd, 'pg2');
      assert.equal(await login(base, 'pg2@example.com', PASSWORD), 200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});
