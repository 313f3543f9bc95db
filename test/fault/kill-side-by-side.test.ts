// kill -9 of a worker while a batch runs several runs' attempts of one sideBySide db step
// together, their queries pipelined in one transaction: none of them commits, each run is taken
// over at that step, and every effect and counter is there exactly once.
import assert from 'node:assert/strict';
import {
  assertSurvived,
  attemptOutcomes,
  checkInvariants,
  executionCounts,
  faultDatabase,
  killAndSettle,
  postgresTest,
  startRuns,
  until,
  waitAllCompleted,
  withWorkers,
} from './harness.ts';

const RUNS = 60;

/** The victim's db-step attempts still running, per step of the side-by-side workflow. */
const IN_FLIGHT = `
  SELECT a.step, array_agg(a.run_id ORDER BY a.run_id) AS run_ids
  FROM fault_attempts a JOIN workflow_runs r ON r.id = a.run_id
  WHERE a.pid = $1 AND a.ended_at IS NULL AND a.kind = 'db' AND r.type = 'fault_side_by_side'
  GROUP BY a.step`;

/**
 * How many of a worker's sessions have a statement running, leaving out those waiting for a lock:
 * the victim's two batches take the same counter row, and the one waiting cannot go on while the
 * other's holder is frozen.
 */
const BUSY = `SELECT count(*)::int AS n FROM pg_stat_activity
  WHERE application_name IN ($1, $2) AND state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock'`;

postgresTest(
  'kill -9 while a batch runs attempts of a sideBySide step together: none commits; each runs again, once',
  async () => {
    const { db, url } = await faultDatabase();
    await withWorkers(url, async ({ spawn }) => {
      // Concurrency 8 makes batches of up to 4 (two in flight): three attempts of one step in
      // flight at once in one worker means at least two ran side by side in one batch.
      const spec = { concurrency: 8, dbMs: '20-40', extMs: '5-20' };
      const victim = await spawn('victim', spec);
      await startRuns(db, 'fault_side_by_side', RUNS);

      // Frozen (SIGSTOP), the victim can end no attempt while the test looks; what it sent before
      // lands first. A kill right after a plain look raced the attempts that ended meanwhile.
      await until(
        'the victim frozen with three attempts of one step in flight',
        async () => {
          const { rows } = await db.query<{ run_ids: string[] }>(IN_FLIGHT, [victim.pid]);
          if (!rows.some((r) => r.run_ids.length >= 3)) return false;
          victim.child.kill('SIGSTOP');
          // Twice in a row: a statement still in the socket is not yet active.
          let idleLooks = 0;
          await until(
            "the frozen victim's last statements to land",
            async () => {
              const { rows: busy } = await db.query<{ n: number }>(BUSY, [victim.name, `${victim.name}_probe`]);
              idleLooks = busy[0]?.n === 0 ? idleLooks + 1 : 0;
              return idleLooks >= 2;
            },
            { intervalMs: 5, timeoutMs: 5000 },
          );
          const { rows: frozen } = await db.query<{ run_ids: string[] }>(IN_FLIGHT, [victim.pid]);
          if (frozen.some((r) => r.run_ids.length >= 3)) return true;
          victim.child.kill('SIGCONT');
          return false;
        },
        { intervalMs: 2, timeoutMs: 20_000 },
      );
      const killedAt = await killAndSettle(db, victim);
      const survivor = await spawn('b', spec);

      const { rows: inFlight } = await db.query<{ step: string; run_ids: string[] }>(IN_FLIGHT, [victim.pid]);
      assert.ok(
        inFlight.some((r) => r.run_ids.length >= 3),
        'the kill landed while attempts of one step ran side by side',
      );
      const killed = inFlight.flatMap((r) => r.run_ids.map((runId) => ({ runId, step: r.step })));
      for (const { runId, step } of killed) {
        const { rows } = await db.query(
          `SELECT 1 FROM fault_effects e WHERE e.run_id = $1 AND e.step = $2
           UNION ALL SELECT 1 FROM workflow_steps s WHERE s.run_id = $1 AND s.name = $2 AND s.status = 'completed'`,
          [runId, step],
        );
        assert.deepEqual(rows, [], `${runId} ${step}: the killed attempt left no effect and no checkpoint`);
      }

      await waitAllCompleted(db, RUNS, { alive: [survivor] });
      // Each db step's effect exactly once, by the execution recorded; counters equal a recount.
      await checkInvariants(db, { expectedRuns: RUNS, killedAt });

      const counts = await executionCounts(db);
      for (const { runId, step } of killed) {
        assert.equal(counts.get(`${runId}:${step}`), 2, `${runId}: ${step} ran again after the kill`);
        // Taken over at the killed step, or at its debit when that ran in the same transaction
        // (a chain): either way one interrupted attempt, then each step completed once.
        const outcomes = [
          ...(await attemptOutcomes(db, runId, 'debit')),
          ...(await attemptOutcomes(db, runId, 'credit')),
        ];
        assert.deepEqual(outcomes.sort(), ['completed', 'completed', 'interrupted'], `${runId} attempts`);
        const { rows } = await db.query<{ worker: string }>(
          `SELECT output->>'worker' AS worker FROM workflow_steps WHERE run_id = $1 AND name = $2`,
          [runId, step],
        );
        assert.deepEqual(
          rows.map((r) => r.worker),
          [survivor.name],
          `${runId} ${step}: the recorded output is the survivor’s`,
        );
      }
      assertSurvived([survivor]);
    });
  },
);
