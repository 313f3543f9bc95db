// Several worker processes on one PostgreSQL share the runs without ever executing a step of
// the same run twice or at the same time (claims are SKIP LOCKED leases, results are fenced).
import assert from 'node:assert/strict';
import {
  checkInvariants,
  executionCounts,
  faultDatabase,
  postgresTest,
  startRuns,
  waitAllCompleted,
  withWorkers,
} from './harness.ts';

const RUNS = 200;

postgresTest('3 worker processes complete 200 runs; no step runs twice or concurrently', async () => {
  const { db, url } = await faultDatabase();
  await withWorkers(url, async ({ spawn, workers }) => {
    // All three are up before the first run exists, so they all compete for every run. Nothing is
    // killed here, so the lease can be long: a busy machine must not take runs over by itself.
    await Promise.all(
      ['a', 'b', 'c'].map((label) => spawn(label, { concurrency: 4, dbMs: '1-8', extMs: '2-15', leaseMs: 5000 })),
    );
    const runIds = await startRuns(db, 'fault_chain', RUNS);
    assert.equal(new Set(runIds).size, RUNS);
    await waitAllCompleted(db, RUNS, { alive: workers });

    await checkInvariants(db, { expectedRuns: RUNS });

    // Without faults every step executed exactly once, and none of it was ever retried.
    const counts = await executionCounts(db);
    assert.equal(counts.size, RUNS * 4, 'every step of every run executed');
    assert.deepEqual([...counts].filter(([, n]) => n !== 1).slice(0, 5), [], 'each step executed exactly once');
    const { rows: open } = await db.query('SELECT id FROM fault_attempts WHERE ended_at IS NULL');
    assert.deepEqual(open, [], 'every execution ended');
    const { rows: histories } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workflow_steps
       WHERE jsonb_array_length(attempts) <> 1 OR attempts->0->>'outcome' <> 'completed'`,
    );
    assert.equal(histories[0]?.n, 0, 'each step history holds one completed attempt');

    // The work was really shared between the processes.
    const { rows: perWorker } = await db.query<{ pid: number; n: number }>(
      'SELECT pid, count(*)::int AS n FROM fault_attempts GROUP BY pid',
    );
    assert.deepEqual(
      perWorker.map((r) => r.pid).sort(),
      workers.map((w) => w.pid).sort(),
      `every process executed steps: ${JSON.stringify(perWorker)}`,
    );

    // Nothing was taken over or rejected: leases held for the whole of every step.
    for (const w of workers) assert.deepEqual(w.problems(), [], `${w.name} logged no warning or error`);
    // SIGTERM is a graceful stop: idle workers leave at once and cleanly.
    const exits = await Promise.all(workers.map((w) => w.stop()));
    assert.deepEqual(
      exits,
      workers.map(() => ({ code: 0, signal: null })),
    );
  });
});
