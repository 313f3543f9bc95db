// `billflow backup` and `billflow restore` as users run them (the compiled CLI in its own process):
// a backup of the embedded database taken from a running server through its admin socket,
// restored into a new folder, served again with the same rows and a failed run restartable; the
// refusals (a running server, a database already there); PostgreSQL pointed to its own tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { Queryable } from '../../src/db/types.ts';
import { createCustomer } from '../../src/billing/records/customers.ts';
import { billflow, startServer } from '../helpers/cli.ts';

async function seed(q: Queryable): Promise<void> {
  await createCustomer(q, { email: 'ada@example.com', name: 'Ada', currency: 'EUR' });
  await createCustomer(q, { email: 'grace@example.com', name: 'Grace', locale: 'fr' });
  const at = new Date(Date.now() - 3_600_000).toISOString();
  // `backup_probe` is a type no server runs: a restarted run stays in_progress for the test to see.
  await q.query(
    `INSERT INTO workflow_runs (id, type, steps, step_index, status, failed_step, failed_at, error, input, created_at,
                                updated_at, started_at)
     VALUES ('run_bkfailed', 'backup_probe', ARRAY['first', 'second'], 0, 'failed', 'first', $1,
             '{"message":"provider down"}', '{}', $1, $1, $1)`,
    [at],
  );
  await q.query(
    `INSERT INTO workflow_steps (run_id, step_index, name, status, attempts, error)
     VALUES ('run_bkfailed', 0, 'first', 'failed', '[{"attempt":1,"outcome":"failed"}]', '{"message":"provider down"}')`,
  );
  await q.query(
    `INSERT INTO workflow_runs (id, type, steps, step_index, status, outcome, input, created_at, finished_at)
     VALUES ('run_bkdone', 'backup_probe', ARRAY['first'], 1, 'completed', 'completed', '{}', $1, $1)`,
    [at],
  );
}

async function snapshot(q: Queryable) {
  const customers = await q.query('SELECT id, email, name, locale, currency, status FROM customers ORDER BY id');
  const runs = await q.query<{ id: string; status: string }>(
    `SELECT id, status FROM workflow_runs WHERE id LIKE 'run_bk%' ORDER BY id`,
  );
  return { customers: customers.rows, runs: runs.rows };
}

test('backup and restore: --help, usage mistakes, and PostgreSQL pointed to its own tools', async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-backup-usage-'));
  const env = { BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
  try {
    for (const command of ['backup', 'restore']) {
      const help = await billflow([command, '--help'], env, cwd);
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`^Usage: billflow ${command} \\[options\\]\\n`));
      const unknown = await billflow([command, '--frobnicate'], env, cwd);
      assert.equal(unknown.code, 2);
      assert.equal(unknown.stderr.split('\n')[0], "billflow: unknown option '--frobnicate'");
      assert.match(unknown.stderr, new RegExp(`\\nUsage: billflow ${command}`));
    }
    const noFile = await billflow(['backup'], env, cwd);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /"backup" needs --to\nUsage: billflow backup/);
    const nothing = await billflow(['backup', '--to', 'x.backup'], env, cwd);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /there is no embedded database in .*state\/data to back up/);

    // Not even connecting: the answer is the same whether PostgreSQL is up or not.
    const pgEnv = { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/billflow' };
    const backup = await billflow(['backup', '--to', 'pg.backup'], pgEnv, cwd);
    assert.equal(backup.code, 1);
    assert.match(backup.stderr, /embedded database only\. On PostgreSQL .* pg_dump .* WAL archiving/);
    assert.ok(!existsSync(path.join(cwd, 'pg.backup')));
    const restore = await billflow(['restore', '--from', 'pg.backup'], pgEnv, cwd);
    assert.equal(restore.code, 1);
    assert.match(restore.stderr, /restores the embedded database only\. On PostgreSQL .* pg_restore/);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});

test('a backup of a running server restores into a new folder that serves the same rows', async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-backup-'));
  const source = { BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
  const copy = { BILLFLOW_DATA_DIR: path.join(cwd, 'restored') };
  const open = (env: { BILLFLOW_DATA_DIR: string }) =>
    openDatabase({ dataDir: path.join(env.BILLFLOW_DATA_DIR, 'data') });
  try {
    let db = await open(source);
    let before;
    try {
      await migrate(db);
      await seed(db);
      before = await snapshot(db);
    } finally {
      await db.close();
    }
    assert.equal(before.customers.length, 2);

    const server = startServer(cwd, source);
    try {
      await server.url;
      const backup = await billflow(['backup', '--to', 'nightly.backup'], source, cwd);
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(
        backup.stdout,
        new RegExp(
          `^backed up the embedded database \\(schema \\d{4}\\) to ${cwd}/nightly\\.backup, \\d+\\.\\d MB\\n$`,
        ),
      );
      const busy = await billflow(['restore', '--from', 'nightly.backup', '--force'], source, cwd);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /in use by process \d+; stop it before restoring/);
    } finally {
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    }

    const occupied = await billflow(['restore', '--from', 'nightly.backup'], source, cwd);
    assert.equal(occupied.code, 1);
    assert.match(occupied.stderr, /state\/data already holds a database; restore replaces it only with --force/);

    const restored = await billflow(['restore', '--from', 'nightly.backup'], copy, cwd);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /^restored .*nightly\.backup into .*restored\/data: schema \d{4}, 2 runs\n/);

    const again = startServer(cwd, copy);
    try {
      await again.url;
      const list = await billflow(['runs', 'list', '--json'], copy, cwd);
      assert.equal(list.code, 0, list.stderr);
      const ids = (JSON.parse(list.stdout) as { items: { id: string }[] }).items.map((r) => r.id).sort();
      assert.deepEqual(ids, ['run_bkdone', 'run_bkfailed']);
      const restart = await billflow(['runs', 'restart', 'run_bkfailed', '--reason', 'provider is back'], copy, cwd);
      assert.equal(restart.code, 0, restart.stderr);
      assert.match(restart.stdout, /restart: run run_bkfailed failed → in_progress/);
    } finally {
      again.child.kill('SIGTERM');
      assert.equal(await again.exited, 0);
    }
    // With no server, the command opens the folder itself.
    const offline = await billflow(['backup', '--to', 'offline.backup'], copy, cwd);
    assert.equal(offline.code, 0, offline.stderr);

    db = await open(copy);
    try {
      const after = await snapshot(db);
      assert.deepEqual(after.customers, before.customers);
      assert.deepEqual(after.runs, [
        { id: 'run_bkdone', status: 'completed' },
        { id: 'run_bkfailed', status: 'in_progress' },
      ]);
      const { rows } = await db.query<{ actor: string; action: string }>(
        `SELECT actor, action FROM audit_log WHERE target = 'run_bkfailed'`,
      );
      assert.deepEqual(rows, [{ actor: `cli:${userInfo().username}`, action: 'workflow.restart' }]);
    } finally {
      await db.close();
    }
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});
