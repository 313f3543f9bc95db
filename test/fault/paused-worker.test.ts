// A worker frozen (SIGSTOP) in the middle of steps for longer than its lease, resumed after
// another process took its runs over and completed them: its late results must be refused by
// the fencing version, and the side effects of its db step rolled back with them.
import assert from 'node:assert/strict';
import {
  attemptOutcomes,
  checkInvariants,
  executionCounts,
  faultDatabase,
  overlappingExecutions,
  postgresTest,
  startRuns,
  until,
  waitAllCompleted,
  withWorkers,
} from './harness.ts';

const LEASE_MS = 1500;

postgresTest('a worker paused past its lease cannot record its late results', async () => {
  const { db, url } = await faultDatabase();
  await withWorkers(url, async ({ spawn }) => {
    // Its steps last long enough for the pause to land inside them (and to ignore abort signals).
    const stale = await spawn('paused', { leaseMs: LEASE_MS, concurrency: 2, dbMs: '3000', extMs: '3000' });
    const [dbRun] = await startRuns(db, 'fault_db_first', 1);
    const [extRun] = await startRuns(db, 'fault_ext_first', 1);
    assert.ok(dbRun && extRun);
    // One run is stalled inside a db step (its transaction open), the other in an external step.
    await until('both first steps running in the worker to pause', async () => {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM fault_attempts WHERE pid = $1', [
        stale.pid,
      ]);
      return rows[0]?.n === 2;
    });
    stale.child.kill('SIGSTOP');
    // The leases as the frozen worker left them (a renewal it had in flight has landed by now).
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { rows: leases } = await db.query<{ id: string; expires: Date }>(
      `SELECT id, run_at AS expires FROM workflow_runs WHERE lease_owner = $1`,
      [`${stale.name}:${stale.pid}`],
    );
    assert.equal(leases.length, 2, 'the frozen worker holds both runs');

    const fresh = await spawn('fresh', { leaseMs: LEASE_MS, concurrency: 2 });
    await waitAllCompleted(db, 2, { timeoutMs: 15_000, alive: [fresh] });
    const { rows: takeovers } = await db.query<{ run_id: string; started_at: Date }>(
      `SELECT run_id, min(started_at) AS started_at FROM fault_attempts WHERE worker = $1 GROUP BY run_id`,
      [fresh.name],
    );
    for (const lease of leases) {
      const takeover = takeovers.find((t) => t.run_id === lease.id);
      assert.ok(takeover && takeover.started_at >= lease.expires, 'taken over only once the lease had run out');
    }

    // Resumed, the stale worker finishes both step bodies and tries to record them.
    stale.child.kill('SIGCONT');
    const rejected = await until(
      'the stale results to be rejected',
      async () => {
        const lines = stale.lines.filter((l) => l.msg?.startsWith('step result rejected'));
        return lines.length >= 2 && lines;
      },
      { timeoutMs: 10_000 },
    );
    assert.deepEqual(rejected.map((l) => l.runId).sort(), [dbRun, extRun].sort());
    assert.deepEqual(
      rejected.map((l) => l.level),
      ['warn', 'warn'],
    );

    for (const [runId, step] of [
      [dbRun, 'slow_db'],
      [extRun, 'slow_ext'],
    ] as const) {
      const { rows } = await db.query<{ worker: string; ended: boolean }>(
        `SELECT worker, ended_at IS NOT NULL AS ended FROM fault_attempts WHERE run_id = $1 AND step = $2 ORDER BY id`,
        [runId, step],
      );
      // The stale body really ran to its end (it did try to record), then the fresh one.
      assert.deepEqual(rows, [
        { worker: stale.name, ended: true },
        { worker: fresh.name, ended: true },
      ]);
      const { rows: recorded } = await db.query<{ worker: string }>(
        `SELECT output->>'worker' AS worker FROM workflow_steps WHERE run_id = $1 AND name = $2`,
        [runId, step],
      );
      assert.equal(recorded[0]?.worker, fresh.name, `${step} shows the output of the worker that took over`);
      assert.deepEqual(await attemptOutcomes(db, runId, step), ['interrupted', 'completed'], `${step} history`);
    }

    // The stale db step's insert was rolled back with its refused checkpoint: one effect, the
    // fresh worker's (checked in detail by the invariants below).
    const { rows: effects } = await db.query<{ worker: string }>(
      `SELECT worker FROM fault_effects WHERE run_id = $1 AND step = 'slow_db'`,
      [dbRun],
    );
    assert.deepEqual(effects, [{ worker: fresh.name }]);
    const counts = await executionCounts(db);
    assert.equal(counts.get(`${dbRun}:tail`), 1);
    assert.equal(counts.get(`${extRun}:tail_db`), 1);

    // Overlap is expected here, but only between the frozen execution and the takeover.
    await checkInvariants(db, { expectedRuns: 2, allowOverlap: true });
    const overlaps = await overlappingExecutions(db);
    assert.ok(overlaps.length >= 2);
    assert.deepEqual(
      overlaps.filter((o) => !o.first.endsWith(` by ${stale.name}`)),
      [],
      'only the stale executions overlap others',
    );

    // The resumed worker neither crashed nor hit an error; it stops cleanly.
    assert.ok(stale.alive);
    assert.deepEqual(
      stale.problems().filter((l) => l.level !== 'warn'),
      [],
    );
    assert.deepEqual(await stale.stop(), { code: 0, signal: null });
    assert.deepEqual(fresh.problems(), []);
  });
});
