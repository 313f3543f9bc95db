// PostgreSQL on the same machine is reached through its Unix socket with libpq's URL forms, and
// the service names the socket in its logs and errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { describeDatabase, openDatabase } from '../../src/db/connect.ts';
import { ADMIN_URL } from '../helpers/databases.ts';

async function socketFolder(): Promise<string> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ dirs: string }>("SELECT current_setting('unix_socket_directories') AS dirs");
    const dir = rows[0]?.dirs.split(',')[0]?.trim();
    assert.ok(dir, 'the test server listens on a Unix socket');
    return dir;
  } finally {
    await client.end();
  }
}

test('DATABASE_URL through a Unix socket: ?host=/dir and the percent-encoded host both connect', async () => {
  const dir = await socketFolder();
  const { username, port } = new URL(ADMIN_URL);
  const user = username || 'postgres';
  const urls = [
    `postgres:///postgres?host=${dir}&port=${port || 5432}&user=${user}`,
    `postgres://${user}@${encodeURIComponent(dir)}:${port || 5432}/postgres`,
  ];
  for (const databaseUrl of urls) {
    assert.equal(describeDatabase({ databaseUrl }), `PostgreSQL at unix:${dir}:${port || 5432}/postgres`);
    const db = await openDatabase({ databaseUrl });
    try {
      const { rows } = await db.query<{ local: boolean }>('SELECT inet_server_addr() IS NULL AS local');
      assert.equal(rows[0]?.local, true, `${databaseUrl} came through the socket, not TCP`);
    } finally {
      await db.close();
    }
  }
  assert.equal(
    describeDatabase({ databaseUrl: 'postgres://u:p@db.internal/billflow' }),
    'PostgreSQL at db.internal:5432/billflow',
  );
});
