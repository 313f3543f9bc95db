import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidInputError } from '../../src/errors.ts';
import { createRegistry, createStarter, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';

const recordAndNotify = defineWorkflow<{ email: string }>({
  type: 'signup',
  parseInput(input) {
    const email = (input as { email?: unknown } | null)?.email;
    if (typeof email !== 'string' || !email.includes('@')) {
      throw new InvalidInputError([{ field: 'input.email', message: 'must be an email address' }]);
    }
    return { email };
  },
  steps: [
    {
      name: 'create_record',
      kind: 'db',
      async run(ctx) {
        const { rows } = await ctx.tx.query<{ id: number }>('INSERT INTO signups (email) VALUES ($1) RETURNING id', [
          ctx.input.email,
        ]);
        return { signup_id: rows[0]?.id };
      },
    },
    { name: 'send_email', kind: 'external', run: async (ctx) => ({ to: ctx.input.email }) },
  ],
});
const registry = createRegistry([recordAndNotify]);

eachDatabase((kind) => {
  test('many parallel starts with one idempotency key make one run', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec('CREATE TABLE signups (id serial PRIMARY KEY, email text NOT NULL)');
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        startWorkflow(db, registry, { type: 'signup', input: { email: 'a@example.com' }, idempotencyKey: 'evt_1' }),
      ),
    );
    assert.equal(new Set(results.map((r) => r.runId)).size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_runs');
    assert.equal(rows[0]?.n, 1);
  });

  test('parallel starts that run the first step inline create one record', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec('CREATE TABLE signups (id serial PRIMARY KEY, email text NOT NULL)');
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        startWorkflow(db, registry, {
          type: 'signup',
          input: { email: 'b@example.com' },
          idempotencyKey: 'evt_2',
          runFirstStep: true,
        }),
      ),
    );
    const signups = await db.query<{ id: number }>('SELECT id FROM signups');
    assert.equal(signups.rows.length, 1);
    for (const r of results) assert.deepEqual(r.firstStepOutput, { signup_id: signups.rows[0]?.id });
    const run = await getRun(db, results[0]?.runId as string);
    assert.equal(run.status, 'in_progress');
    assert.deepEqual(
      run.steps.map((s) => s.status),
      ['completed', 'pending'],
    );
    await testWorker(db, [recordAndNotify]).drain();
    assert.equal((await getRun(db, run.id)).status, 'completed');
  });

  test("a run started in the caller's transaction exists only if that transaction commits", async () => {
    const { db } = await freshDatabase(kind);
    await db.exec('CREATE TABLE signups (id serial PRIMARY KEY, email text NOT NULL)');
    await assert.rejects(
      db.transaction(async (tx) => {
        await startWorkflow(tx, registry, { type: 'signup', input: { email: 'c@example.com' }, idempotencyKey: 'k' });
        throw new Error('caller failed after starting');
      }),
      /caller failed/,
    );
    const none = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_runs');
    assert.equal(none.rows[0]?.n, 0);
    const started = await db.transaction((tx) =>
      startWorkflow(tx, registry, { type: 'signup', input: { email: 'c@example.com' }, idempotencyKey: 'k' }),
    );
    assert.equal(started.created, true);
  });

  test('bad input is refused with the field named, and nothing is created', async () => {
    const { db } = await freshDatabase(kind);
    await assert.rejects(
      startWorkflow(db, registry, { type: 'signup', input: { email: 'nope' } }),
      (error: unknown) => error instanceof InvalidInputError && error.errors[0]?.field === 'input.email',
    );
    await assert.rejects(
      startWorkflow(db, registry, { type: 'no_such_type', input: {} }),
      (error: unknown) => error instanceof InvalidInputError && error.errors[0]?.field === 'type',
    );
    const none = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_runs');
    assert.equal(none.rows[0]?.n, 0);
  });

  test('reusing a key for another workflow type is a conflict', async () => {
    const { db } = await freshDatabase(kind);
    const other = defineWorkflow({ type: 'other', steps: [{ name: 'x', kind: 'external', run: async () => 1 }] });
    const both = createRegistry([recordAndNotify, other]);
    await startWorkflow(db, both, { type: 'other', input: {}, idempotencyKey: 'shared' });
    await assert.rejects(
      startWorkflow(db, both, { type: 'signup', input: { email: 'd@example.com' }, idempotencyKey: 'shared' }),
      ConflictError,
    );
  });
});

eachDatabase((kind) => {
  test('a starter batches a burst of starts and keeps them idempotent', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec('CREATE TABLE signups (id serial PRIMARY KEY, email text NOT NULL)');
    const starter = createStarter(db, registry);
    const distinct = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        starter.start({ type: 'signup', input: { email: `u${i}@example.com` }, idempotencyKey: `evt_${i}` }),
      ),
    );
    assert.equal(new Set(distinct.map((r) => r.runId)).size, 30);
    assert.ok(distinct.every((r) => r.created && r.status === 'pending'));
    const repeated = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        starter.start({
          type: 'signup',
          input: { email: 'same@example.com' },
          idempotencyKey: i < 10 ? 'evt_3' : 'dup',
        }),
      ),
    );
    assert.ok(repeated.slice(0, 10).every((r) => r.runId === distinct[3]?.runId && !r.created));
    assert.equal(new Set(repeated.slice(10).map((r) => r.runId)).size, 1);
    assert.equal(repeated.slice(10).filter((r) => r.created).length, 1);
    await assert.rejects(starter.start({ type: 'signup', input: { email: 'nope' } }), InvalidInputError);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_runs');
    assert.equal(rows[0]?.n, 31);
    await testWorker(db, [recordAndNotify]).drain();
    const done = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workflow_runs WHERE status = 'completed'`,
    );
    assert.equal(done.rows[0]?.n, 31);
  });
});
