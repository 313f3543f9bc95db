import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_DATABASES, freshDatabase } from './helpers/databases.ts';
import { billflow, startServer } from './helpers/cli.ts';

test('a bad or unreachable DATABASE_URL ends with a clear message and a non-zero exit', async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-cli-'));
  try {
    const notUrl = await billflow(['migrate'], { DATABASE_URL: 'localhost:5432' }, cwd);
    assert.equal(notUrl.code, 1);
    assert.match(notUrl.stderr, /DATABASE_URL must start with postgres:\/\//);
    const mysql = await billflow(['start'], { DATABASE_URL: 'mysql://root@127.0.0.1/x' }, cwd);
    assert.equal(mysql.code, 1);
    assert.match(mysql.stderr, /DATABASE_URL must start with postgres/);
    const down = await billflow(['migrate'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, cwd);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach PostgreSQL at 127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
    const usage = await billflow(['launch'], {}, cwd);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown command "launch"/);
    const worker = await billflow(['worker'], {}, cwd);
    assert.equal(worker.code, 2);
    assert.match(worker.stderr, /worker needs DATABASE_URL/);
    const port = await billflow(['start', '--port', 'x'], {}, cwd);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port must be an integer/);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});

test('start serves on the embedded database, refuses a second process on it, and stops on SIGTERM', async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-start-'));
  const server = startServer(cwd);
  try {
    const url = await server.url;
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', database: 'pglite' });
    const second = await billflow(['migrate'], {}, cwd);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /in use by process \d+/);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    assert.match(server.output(), /shutting down/);
    // The lock is gone with the process: the folder opens again.
    const again = await billflow(['migrate'], {}, cwd);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /database is up to date/);
  } finally {
    server.child.kill('SIGKILL');
    await rm(cwd, { recursive: true, force: true });
  }
});

test('migrate and start on PostgreSQL', { skip: !TEST_DATABASES.includes('postgres') }, async () => {
  const { url } = await freshDatabase('postgres', { migrate: false });
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-pg-'));
  try {
    const migrated = await billflow(['migrate'], { DATABASE_URL: url as string }, cwd);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /applied: 0001_workflow_runs/);
    const server = startServer(cwd, { DATABASE_URL: url as string });
    try {
      const ready = await fetch(`${await server.url}/readyz`);
      assert.deepEqual(await ready.json(), { status: 'ready', database: 'postgres' });
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    } finally {
      server.child.kill('SIGKILL');
    }
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});
