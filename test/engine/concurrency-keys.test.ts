import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectPostgres } from '../../src/db/postgres.ts';
import type { Db } from '../../src/db/types.ts';
import {
  cancelRun,
  createRegistry,
  defineWorkflow,
  getRun,
  restartRun,
  startWorkflow,
  waitUntil,
} from '../../src/engine/index.ts';
import type { AnyWorkflow } from '../../src/engine/index.ts';
import { claimRuns } from '../../src/engine/sql/claimRuns.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { deferred, testWorker } from '../helpers/engine.ts';

interface KeyedInput {
  key: string;
  n: number;
}

/** Lets other runs interleave without sleeping: a few turns of the event loop. */
async function yieldTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Waits for a condition the workers make true (they run on their own timers here). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Records, per key, which runs entered in which order and whether two were ever inside at once. */
function keyedFlow(
  type: string,
  log: { entered: Map<string, number[]>; inside: Map<string, number>; overlaps: number },
) {
  return defineWorkflow<KeyedInput>({
    type,
    concurrency: { key: (input) => input.key },
    steps: [
      {
        name: 'enter',
        kind: 'external',
        async run(ctx) {
          const { key, n } = ctx.input;
          const inside = (log.inside.get(key) ?? 0) + 1;
          log.inside.set(key, inside);
          if (inside > 1) log.overlaps++;
          log.entered.set(key, [...(log.entered.get(key) ?? []), n]);
          await yieldTurns(n % 5);
          return { n };
        },
      },
      {
        name: 'write',
        kind: 'db',
        async run(ctx) {
          await ctx.tx.query('INSERT INTO key_log (key, n) VALUES ($1, $2)', [ctx.input.key, ctx.input.n]);
          return null;
        },
      },
      {
        name: 'leave',
        kind: 'external',
        async run(ctx) {
          await yieldTurns(ctx.input.n % 3);
          log.inside.set(ctx.input.key, (log.inside.get(ctx.input.key) ?? 1) - 1);
          return null;
        },
      },
    ],
  });
}

eachDatabase((kind) => {
  test('runs of one key execute one at a time in start order across two workers; other keys are not held up', async () => {
    const { db, url } = await freshDatabase(kind);
    await db.exec('CREATE TABLE key_log (id bigint GENERATED ALWAYS AS IDENTITY, key text, n int)');
    const log = { entered: new Map<string, number[]>(), inside: new Map<string, number>(), overlaps: 0 };
    const flow = keyedFlow('keyed', log);
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    // Two workers on separate connections (two pools on PostgreSQL), as two processes would be.
    const second: Db = url ? connectPostgres({ connectionString: url, maxConnections: 10 }) : db;
    const a = testWorker(db, [flow as unknown as AnyWorkflow], { concurrency: 16, pollIntervalMs: 20 });
    const b = testWorker(second, [flow as unknown as AnyWorkflow], { concurrency: 16, pollIntervalMs: 20 });
    const keys = ['customer:a', 'customer:b', 'customer:c', 'customer:d'];
    const started: Record<string, number[]> = {};
    for (let n = 0; n < 80; n++) {
      const key = keys[n % keys.length] as string;
      await startWorkflow(db, registry, { type: 'keyed', input: { key, n } });
      (started[key] ??= []).push(n);
    }
    await Promise.all([a.start(), b.start()]);
    await until('all runs completed', async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM workflow_runs WHERE status = 'completed'`,
      );
      return rows[0]?.n === 80;
    });
    await Promise.all([a.stop(), b.stop()]);
    if (second !== db) await second.close();
    assert.equal(log.overlaps, 0, 'two runs of one key were inside at the same time');
    for (const key of keys) assert.deepEqual(log.entered.get(key), started[key], `start order of ${key}`);
    // The database saw the same order: each key's writes in start order.
    const { rows } = await db.query<{ key: string; ns: number[] }>(
      'SELECT key, array_agg(n ORDER BY id) AS ns FROM key_log GROUP BY key',
    );
    for (const row of rows) assert.deepEqual(row.ns, started[row.key]);
  });

  test('a run waits for the run of its key that is running, says so, and an unrelated run passes it', async () => {
    const { db } = await freshDatabase(kind);
    const hold = deferred();
    const ran: string[] = [];
    const flow = defineWorkflow<{ key: string; name: string }>({
      type: 'held',
      concurrency: { key: (input) => input.key },
      steps: [
        {
          name: 'work',
          kind: 'external',
          async run(ctx) {
            ran.push(ctx.input.name);
            if (ctx.input.name === 'first') await hold.promise;
            return null;
          },
        },
      ],
    });
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const worker = testWorker(db, [flow as unknown as AnyWorkflow], { concurrency: 8, pollIntervalMs: 20 });
    const first = await startWorkflow(db, registry, { type: 'held', input: { key: 'k1', name: 'first' } });
    await worker.start();
    await until('first running', async () => ran.includes('first'));
    const second = await startWorkflow(db, registry, { type: 'held', input: { key: 'k1', name: 'second' } });
    const other = await startWorkflow(db, registry, { type: 'held', input: { key: 'k2', name: 'other' } });
    await until('the other key ran', async () => (await getRun(db, other.runId)).status === 'completed');
    const waiting = await getRun(db, second.runId);
    assert.equal(waiting.status, 'pending');
    assert.equal(waiting.waiting_for, first.runId);
    assert.equal(waiting.concurrency_key, 'k1');
    assert.deepEqual(ran, ['first', 'other']);
    hold.resolve();
    await until('second ran', async () => (await getRun(db, second.runId)).status === 'completed');
    assert.deepEqual(ran, ['first', 'other', 'second']);
    assert.equal((await getRun(db, second.runId)).waiting_for, null);
  });

  test('a run parked on a durable timer lets its key go unless its workflow holds the key while waiting', async () => {
    for (const holdWhileWaiting of [false, true]) {
      const { db } = await freshDatabase(kind);
      const clock = testClock();
      const order: string[] = [];
      const flow = defineWorkflow<{ name: string }>({
        type: 'waits',
        concurrency: { key: () => 'customer:1', holdWhileWaiting },
        steps: [
          {
            name: 'maybe_wait',
            kind: 'external',
            async run(ctx) {
              if (ctx.input.name === 'waiter' && ctx.state === undefined) {
                return waitUntil(new Date(clock.now().getTime() + 86_400_000), 'waited');
              }
              order.push(ctx.input.name);
              return null;
            },
          },
        ],
      });
      const registry = createRegistry([flow as unknown as AnyWorkflow]);
      const worker = testWorker(db, [flow as unknown as AnyWorkflow], { clock: clock.now });
      const waiter = await startWorkflow(db, registry, { type: 'waits', input: { name: 'waiter' }, now: clock.now() });
      await worker.drain();
      const later = await startWorkflow(db, registry, { type: 'waits', input: { name: 'later' }, now: clock.now() });
      await worker.drain();
      assert.equal((await getRun(db, later.runId)).status, holdWhileWaiting ? 'pending' : 'completed');
      if (holdWhileWaiting) assert.equal((await getRun(db, later.runId)).waiting_for, waiter.runId);
      clock.advance(86_400_000);
      await worker.drain();
      assert.equal((await getRun(db, waiter.runId)).status, 'completed');
      assert.equal((await getRun(db, later.runId)).status, 'completed');
      assert.deepEqual(order, holdWhileWaiting ? ['waiter', 'later'] : ['later', 'waiter']);
    }
  });

  test('a failed run lets its key go; restarted, it waits for its turn again; a cancelled holder frees the key', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    let failing = true;
    const order: string[] = [];
    const flow = defineWorkflow<{ name: string }>({
      type: 'fails',
      concurrency: { key: () => 'customer:9' },
      steps: [
        {
          name: 'work',
          kind: 'external',
          retry: { maxAttempts: 1 },
          async run(ctx) {
            if (ctx.input.name === 'broken' && failing) throw new Error('provider down');
            order.push(ctx.input.name);
            return null;
          },
        },
      ],
    });
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const worker = testWorker(db, [flow as unknown as AnyWorkflow], { clock: clock.now });
    const broken = await startWorkflow(db, registry, { type: 'fails', input: { name: 'broken' }, now: clock.now() });
    const next = await startWorkflow(db, registry, { type: 'fails', input: { name: 'next' }, now: clock.now() });
    await worker.drain();
    assert.equal((await getRun(db, broken.runId)).status, 'failed');
    assert.equal((await getRun(db, next.runId)).status, 'completed');
    failing = false;
    await restartRun(db, { runId: broken.runId, actor: 'test', reason: 'fixed', now: clock.now() });
    await worker.drain();
    assert.equal((await getRun(db, broken.runId)).status, 'completed');
    assert.deepEqual(order, ['next', 'broken']);

    // A holder whose worker vanished keeps the key until it is taken over or cancelled.
    const stuck = await startWorkflow(db, registry, { type: 'fails', input: { name: 'stuck' }, now: clock.now() });
    const [claimed] = await claimRuns(db, {
      workerId: 'gone',
      types: ['fails'],
      limit: 1,
      leaseMs: 60_000,
      now: clock.now(),
    });
    assert.equal(claimed?.id, stuck.runId);
    const behind = await startWorkflow(db, registry, { type: 'fails', input: { name: 'behind' }, now: clock.now() });
    await worker.drain();
    assert.equal((await getRun(db, behind.runId)).status, 'pending');
    assert.equal((await getRun(db, behind.runId)).waiting_for, stuck.runId);
    await cancelRun(db, { runId: stuck.runId, actor: 'test', reason: 'worker gone', now: clock.now() });
    await worker.drain();
    assert.equal((await getRun(db, behind.runId)).status, 'completed');
  });

  test('a holder whose lease expired is taken over before the runs behind it', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const order: string[] = [];
    const flow = defineWorkflow<{ name: string }>({
      type: 'takeover',
      concurrency: { key: () => 'customer:7' },
      steps: [
        {
          name: 'work',
          kind: 'external',
          async run(ctx) {
            order.push(ctx.input.name);
            return null;
          },
        },
      ],
    });
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const first = await startWorkflow(db, registry, { type: 'takeover', input: { name: 'first' }, now: clock.now() });
    await claimRuns(db, { workerId: 'crashed', types: ['takeover'], limit: 1, leaseMs: 1000, now: clock.now() });
    clock.advance(10);
    await startWorkflow(db, registry, { type: 'takeover', input: { name: 'second' }, now: clock.now() });
    const worker = testWorker(db, [flow as unknown as AnyWorkflow], { clock: clock.now });
    await worker.drain();
    assert.deepEqual(order, []);
    clock.advance(5000);
    await worker.drain();
    assert.deepEqual(order, ['first', 'second']);
    assert.equal((await getRun(db, first.runId)).status, 'completed');
  });
});
