// The operator commands of the command line (`billflow runs …`, `billflow user set-role`,
// `billflow user reset-password`), run as a real process of the compiled CLI: on the embedded
// database through a running server's admin socket, and directly on PostgreSQL. What they
// changed is read back from the database, with the audit entry naming the operating-system user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { TEST_DATABASES, freshDatabase } from '../helpers/databases.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { Db, Queryable } from '../../src/db/types.ts';
import { billflow, startServer } from '../helpers/cli.ts';

const PASSWORD = 'a very long cli password';
const NEW_PASSWORD = 'another long password, reset';
const ACTOR = `cli:${userInfo().username}`;

const CHARGEBACK_STEPS = ['record_chargeback', 'update_stats', 'send_customer_email', 'send_internal_notice'];
const FAILURE_STEPS = ['record_failure', 'send_customer_email', 'send_internal_notice', 'retry_payment'];

/**
 * Failed runs to act on. `ops_probe` is a type no server runs, so a restarted one stays
 * in_progress for the test to see; the chargeback run failed at its last step, so skipping it
 * completes it at once.
 */
async function seedRuns(q: Queryable): Promise<void> {
  const failed = async (id: string, type: string, steps: string[], index: number, createdAt: string) => {
    await q.query(
      `INSERT INTO workflow_runs (id, type, steps, step_index, status, failed_step, failed_at, error, input, created_at,
                                  updated_at, started_at)
       VALUES ($1, $2, $3::text[], $4, 'failed', ($3::text[])[$4 + 1], $5, '{"message":"SMTP refused"}', '{}', $5, $5, $5)`,
      [id, type, steps, index, createdAt],
    );
    await q.query(
      `INSERT INTO workflow_steps (run_id, step_index, name, status, attempts, error)
       VALUES ($1, $2, $3, 'failed', '[{"attempt":1,"outcome":"failed"}]', '{"message":"SMTP refused"}')`,
      [id, index, steps[index]],
    );
  };
  const recent = new Date(Date.now() - 3_600_000).toISOString();
  await failed('run_opschargeback', 'chargeback_creation', CHARGEBACK_STEPS, 3, recent);
  await failed('run_opsfailure1', 'payment_failure', FAILURE_STEPS, 1, recent);
  await failed('run_opsfailure2', 'payment_failure', FAILURE_STEPS, 2, recent);
  await failed('run_opsprobe', 'ops_probe', ['first', 'second'], 0, recent);
  await q.query(
    `INSERT INTO workflow_runs (id, type, steps, step_index, status, outcome, input, created_at, finished_at)
     VALUES ('run_opsold', 'invoice_creation', ARRAY['record_invoice'], 1, 'completed', 'completed', '{}', $1, $1)`,
    // A month old: older than `--since 7d`, younger than the retention (90 days) of a running server.
    [new Date(Date.now() - 30 * 86_400_000).toISOString()],
  );
}

/** What the commands must have left behind, whatever the database. */
async function checkDatabase(db: Queryable, email: string): Promise<void> {
  const { rows: runs } = await db.query<{ id: string; status: string }>(
    `SELECT id, status FROM workflow_runs WHERE id LIKE 'run_ops%' ORDER BY id`,
  );
  const status = Object.fromEntries(runs.map((r) => [r.id, r.status]));
  assert.equal(status.run_opschargeback, 'completed', 'skipped at its last step');
  assert.equal(status.run_opsfailure1, 'cancelled');
  assert.equal(status.run_opsprobe, 'in_progress', 'restarted');
  assert.equal(status.run_opsold, 'completed', 'a refused restart changes nothing');
  const { rows: skipped } = await db.query<{ status: string; note: string }>(
    `SELECT status, note FROM workflow_steps WHERE run_id = 'run_opschargeback' AND step_index = 3`,
  );
  assert.deepEqual(skipped, [{ status: 'skipped', note: 'skipped by operator: notice sent by hand' }]);

  const { rows: events } = await db.query<{ run_id: string; action: string; actor: string; reason: string }>(
    `SELECT run_id, action, actor, reason FROM workflow_run_events WHERE run_id LIKE 'run_ops%' AND actor <> 'system'
     ORDER BY id`,
  );
  assert.deepEqual(
    events.filter((e) => e.run_id !== 'run_opsfailure2'),
    [
      { run_id: 'run_opschargeback', action: 'skip_step', actor: ACTOR, reason: 'notice sent by hand' },
      { run_id: 'run_opsfailure1', action: 'cancel', actor: ACTOR, reason: 'customer left' },
      { run_id: 'run_opsprobe', action: 'restart', actor: ACTOR, reason: 'SMTP is back' },
    ],
  );

  const { rows: audit } = await db.query<{
    actor: string;
    action: string;
    target: string | null;
    reason: string | null;
  }>(
    `SELECT actor, action, target, reason FROM audit_log WHERE action <> 'user.create' AND actor LIKE 'cli%' ORDER BY id`,
  );
  const { rows: users } = await db.query<{ id: string; role: string }>('SELECT id, role FROM users WHERE email = $1', [
    email,
  ]);
  const user = users[0];
  assert.equal(user?.role, 'viewer');
  const operation = audit.find((a) => a.action === 'workflow.bulk_restart');
  assert.match(operation?.target ?? '', /^op_/);
  assert.deepEqual(audit, [
    { actor: ACTOR, action: 'workflow.skip_step', target: 'run_opschargeback', reason: 'notice sent by hand' },
    { actor: ACTOR, action: 'workflow.cancel', target: 'run_opsfailure1', reason: 'customer left' },
    { actor: ACTOR, action: 'workflow.restart', target: 'run_opsprobe', reason: 'SMTP is back' },
    { actor: ACTOR, action: 'workflow.bulk_restart', target: operation?.target, reason: 'provider outage over' },
    { actor: ACTOR, action: 'user.update', target: `user:${user?.id}`, reason: 'moved to support' },
    { actor: ACTOR, action: 'user.password_reset', target: `user:${user?.id}`, reason: null },
  ]);
  const { rows: ops } = await db.query<{ matched: number; actor: string }>(
    `SELECT matched, actor FROM workflow_operations WHERE id = $1`,
    [operation?.target],
  );
  assert.deepEqual(ops, [{ matched: 1, actor: ACTOR }]);
}

/** The same commands, wherever they end up running. */
async function operate(env: Record<string, string>, cwd: string, email: string): Promise<void> {
  const list = await billflow(['runs', 'list', '--json'], env, cwd);
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout) as { items: { id: string; status: string }[] };
  assert.deepEqual(listed.items.map((r) => r.id).sort(), [
    'run_opschargeback',
    'run_opsfailure1',
    'run_opsfailure2',
    'run_opsold',
    'run_opsprobe',
  ]);

  const failures = await billflow(['runs', 'list', '--type', 'payment_failure', '--status', 'failed'], env, cwd);
  assert.equal(failures.code, 0, failures.stderr);
  assert.match(failures.stdout, /^ID\s+TYPE\s+STATUS\s+STEP\s+SUBJECT\s+CREATED\n/);
  assert.match(failures.stdout, /run_opsfailure1\s+payment_failure\s+failed\s+send_customer_email/);
  assert.doesNotMatch(failures.stdout, /run_opschargeback|run_opsold/);
  const recent = await billflow(['runs', 'list', '--since', '7d', '--json'], env, cwd);
  assert.equal((JSON.parse(recent.stdout) as { items: unknown[] }).items.length, 4, 'the month-old run is older');
  const badType = await billflow(['runs', 'list', '--type', 'nonsense'], env, cwd);
  assert.equal(badType.code, 1);
  assert.match(badType.stderr, /--type: must be one of/);

  const show = await billflow(['runs', 'show', 'run_opschargeback'], env, cwd);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /failed at send_internal_notice: SMTP refused/);
  assert.match(show.stdout, /4\s+send_internal_notice\s+failed\s+1/);
  const shownJson = await billflow(['runs', 'show', 'run_opschargeback', '--json'], env, cwd);
  assert.equal((JSON.parse(shownJson.stdout) as { steps: unknown[] }).steps.length, 4);
  const missing = await billflow(['runs', 'show', 'run_nothere'], env, cwd);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /run_nothere not found/);

  const noReason = await billflow(['runs', 'restart', 'run_opsprobe'], env, cwd);
  assert.equal(noReason.code, 2);
  assert.match(noReason.stderr, /needs --reason\nUsage: billflow runs restart ID/);

  const skip = await billflow(['runs', 'skip', 'run_opschargeback', '--reason', 'notice sent by hand'], env, cwd);
  assert.equal(skip.code, 0, skip.stderr);
  assert.match(skip.stdout, /skip step: run run_opschargeback failed → completed/);
  const cancel = await billflow(['runs', 'cancel', 'run_opsfailure1', '--reason', 'customer left', '--json'], env, cwd);
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.deepEqual(JSON.parse(cancel.stdout), {
    run_id: 'run_opsfailure1',
    action: 'cancel',
    previous_status: 'failed',
    status: 'cancelled',
    detail: { at_step: 'send_customer_email' },
  });
  const restart = await billflow(['runs', 'restart', 'run_opsprobe', '--reason', 'SMTP is back'], env, cwd);
  assert.equal(restart.code, 0, restart.stderr);
  assert.match(restart.stdout, /restart: run run_opsprobe failed → in_progress; next: first → second/);
  const refused = await billflow(['runs', 'restart', 'run_opsold', '--reason', 'again'], env, cwd);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /cannot restart a run that is completed/);

  const dry = await billflow(
    ['runs', 'bulk-restart', '--type', 'payment_failure', '--dry-run', '--reason', 'provider outage over'],
    env,
    cwd,
  );
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /dry run: 1 failed run would be restarted/);
  const bulk = await billflow(
    ['runs', 'bulk-restart', '--type', 'payment_failure', '--reason', 'provider outage over', '--json'],
    env,
    cwd,
  );
  assert.equal(bulk.code, 0, bulk.stderr);
  assert.equal((JSON.parse(bulk.stdout) as { matched: number }).matched, 1);

  const role = await billflow(
    ['user', 'set-role', '--email', email, '--role', 'viewer', '--reason', 'moved to support'],
    env,
    cwd,
  );
  assert.equal(role.code, 0, role.stderr);
  assert.match(role.stdout, /updated user .* \(viewer\)/);
  const same = await billflow(['user', 'set-role', '--email', email, '--role', 'viewer'], env, cwd);
  assert.equal(same.code, 1);
  assert.match(same.stderr, /already viewer/);
  const reset = await billflow(['user', 'reset-password', '--email', email], env, cwd, `${NEW_PASSWORD}\n`);
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, /sessions ended: 0/);
  const nobody = await billflow(['user', 'reset-password', '--email', 'nobody@example.com'], env, cwd, `${PASSWORD}\n`);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /no user with email nobody@example.com/);
}

test('usage mistakes print one line and the usage, exit 2; --help on every command', async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-usage-'));
  const env = { BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
  try {
    const bogus = await billflow(['--bogus'], env, cwd);
    assert.equal(bogus.code, 2);
    assert.equal(bogus.stderr.split('\n')[0], "billflow: unknown option '--bogus'");
    assert.match(bogus.stderr, /\nUsage: billflow <command> \[options\]/);
    assert.doesNotMatch(bogus.stderr, /ERR_PARSE_ARGS|\n\s+at /);
    const start = await billflow(['start', '--help'], env, cwd);
    assert.equal(start.code, 0);
    assert.match(start.stdout, /^Usage: billflow start \[options\]\n/);
    assert.match(start.stdout, /--port N/);
    assert.doesNotMatch(start.stdout, /Commands:/);
    const commands = [
      'worker',
      'migrate',
      'user create',
      'user set-role',
      'user reset-password',
      'api-key create',
      'runs list',
      'runs show',
      'runs restart',
      'runs cancel',
      'runs skip',
      'runs bulk-restart',
      'reconcile',
    ];
    // A few processes at a time: each loads the whole CLI.
    for (let i = 0; i < commands.length; i += 4) {
      await Promise.all(
        commands.slice(i, i + 4).map(async (command) => {
          const help = await billflow([...command.split(' '), '--help'], env, cwd);
          assert.equal(help.code, 0, command);
          assert.match(help.stdout, new RegExp(`^Usage: billflow ${command}`), command);
          const unknown = await billflow([...command.split(' '), '--frobnicate'], env, cwd);
          assert.equal(unknown.code, 2, command);
          assert.equal(unknown.stderr.split('\n')[0], "billflow: unknown option '--frobnicate'", command);
          assert.match(unknown.stderr, new RegExp(`\nUsage: billflow ${command}`), command);
        }),
      );
    }
    const extra = await billflow(['runs', 'show', 'run_1', 'run_2'], env, cwd);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /unexpected argument "run_2"/);
    const since = await billflow(['runs', 'list', '--since', 'yesterday'], env, cwd);
    assert.equal(since.code, 2);
    assert.match(since.stderr, /--since must be an ISO-8601 time or an age/);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});

test('runs and user commands on the embedded database, through a running server', async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-ops-'));
  const env = { BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
  const email = 'support@example.com';
  const open = async () => {
    const db = await openDatabase({ dataDir: path.join(env.BILLFLOW_DATA_DIR, 'data') });
    await migrate(db);
    return db;
  };
  try {
    let db: Db = await open();
    try {
      await seedRuns(db);
    } finally {
      await db.close();
    }
    const created = await billflow(
      ['user', 'create', '--email', email, '--role', 'developer'],
      env,
      cwd,
      `${PASSWORD}\n`,
    );
    assert.equal(created.code, 0, created.stderr);
    const server = startServer(cwd, env);
    try {
      const url = await server.url;
      await operate(env, cwd, email);
      // The new password works at once; the old one no longer does.
      const login = (password: string) =>
        fetch(`${url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password }),
        }).then((r) => r.status);
      assert.equal(await login(NEW_PASSWORD), 200);
      assert.equal(await login(PASSWORD), 401);
    } finally {
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    }
    db = await open();
    try {
      await checkDatabase(db, email);
    } finally {
      await db.close();
    }
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});

test('runs and user commands on PostgreSQL', { skip: !TEST_DATABASES.includes('postgres') }, async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-ops-pg-'));
  const { db, url } = await freshDatabase('postgres');
  const env = { DATABASE_URL: url as string, BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
  const email = 'support@example.com';
  try {
    await seedRuns(db);
    const created = await billflow(
      ['user', 'create', '--email', email, '--role', 'developer'],
      env,
      cwd,
      `${PASSWORD}\n`,
    );
    assert.equal(created.code, 0, created.stderr);
    await operate(env, cwd, email);
    await checkDatabase(db, email);
    const { rows } = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = $1', [
      email,
    ]);
    assert.match(rows[0]?.password_hash ?? '', /^\$argon2id\$/);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});
