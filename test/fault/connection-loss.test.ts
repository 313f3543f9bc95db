// Workers whose PostgreSQL sessions are terminated under them (pg_terminate_backend: what a
// failover, a proxy restart or an idle-session killer does) keep running: they reconnect,
// every run completes, and the db steps' effects and counters stay exact.
import assert from 'node:assert/strict';
import {
  checkInvariants,
  faultDatabase,
  postgresTest,
  startRuns,
  until,
  waitAllCompleted,
  withWorkers,
} from './harness.ts';

const RUNS = 150;
const ROUNDS = 6;

postgresTest('terminated PostgreSQL connections: workers reconnect; nothing lost, counters exact', async () => {
  const { db, url } = await faultDatabase();
  await withWorkers(url, async ({ spawn, workers }) => {
    // Db steps sleep with their transaction open, so kills also hit transactions mid-step.
    await Promise.all(['a', 'b', 'c'].map((label) => spawn(label, { concurrency: 4, dbMs: '10-30', extMs: '5-20' })));
    await startRuns(db, 'fault_chain', RUNS);
    await until('work in full swing', async () => {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM fault_effects');
      return (rows[0]?.n ?? 0) >= 20;
    });

    // Kill every engine session of every worker (pool, transactions, LISTEN), round after round,
    // while the runs are being worked on. The probes' own sessions are left alone.
    const states: Record<string, number> = {};
    let roundsWhileBusy = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { rows } = await db.query<{ state: string | null; terminated: boolean }>(
        `SELECT state, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = ANY($1)`,
        [workers.map((w) => w.name)],
      );
      for (const r of rows) if (r.terminated) states[r.state ?? 'unknown'] = (states[r.state ?? 'unknown'] ?? 0) + 1;
      const { rows: left } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM workflow_runs WHERE status <> 'completed'`,
      );
      if ((left[0]?.n ?? 0) > 0) roundsWhileBusy++;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.ok(roundsWhileBusy >= 3, `kills landed while runs were in progress (${roundsWhileBusy} rounds)`);
    assert.ok(
      (states['idle in transaction'] ?? 0) >= 1,
      `some kills hit a step's open transaction: ${JSON.stringify(states)}`,
    );

    await waitAllCompleted(db, RUNS, { timeoutMs: 30_000, alive: workers });
    // Wake-ups survived too: every worker listens again on a new session.
    await until('every worker to LISTEN again', async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(DISTINCT application_name)::int AS n FROM pg_stat_activity
         WHERE application_name = ANY($1) AND query ILIKE 'LISTEN%'`,
        [workers.map((w) => w.name)],
      );
      return rows[0]?.n === workers.length;
    });
    await checkInvariants(db, { expectedRuns: RUNS });

    for (const w of workers) {
      assert.ok(w.alive, `${w.name} survived the connection losses\n${w.tail()}`);
      const errors = w.lines.filter((l) => l.level === 'fatal' || l.msg === 'run loop crashed');
      assert.deepEqual(errors, [], `${w.name} did not crash`);
    }
    // Each worker noticed the losses (so the kills really hit it) and still stops cleanly.
    for (const w of workers) assert.ok(w.problems().length > 0, `${w.name} saw its connections drop`);
    const exits = await Promise.all(workers.map((w) => w.stop()));
    assert.deepEqual(
      exits,
      workers.map(() => ({ code: 0, signal: null })),
    );
  });
});
