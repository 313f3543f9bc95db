// kill -9 of a worker while it runs two db steps of a run in one transaction (a chain): the
// first step's write and checkpoint go with the second's, so the run is taken over at its first
// step, both steps run again, and every effect and counter is there exactly once.
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

/** Runs whose `credit` the victim was executing, chained after a `debit` it had finished. */
const MID_CHAIN = `
  SELECT c.run_id FROM fault_attempts c
  WHERE c.pid = $1 AND c.step = 'credit' AND c.ended_at IS NULL
    AND EXISTS (SELECT 1 FROM fault_attempts d
                WHERE d.pid = c.pid AND d.run_id = c.run_id AND d.step = 'debit' AND d.ended_at IS NOT NULL)`;

postgresTest(
  'kill -9 mid-chain: the first step of the chain commits nothing either; both run again, once each',
  async () => {
    const { db, url } = await faultDatabase();
    await withWorkers(url, async ({ spawn }) => {
      // Db steps long enough that a kill lands inside the second one of a chain.
      const spec = { concurrency: 4, dbMs: '20-40', extMs: '5-20' };
      const [victim, ...survivors] = await Promise.all(['victim', 'b'].map((label) => spawn(label, spec)));
      assert.ok(victim);
      await startRuns(db, 'fault_db_pair', RUNS);

      await until(
        'the victim in the second step of a chain',
        async () => {
          const { rows } = await db.query(MID_CHAIN, [victim.pid]);
          const { rows: done } = await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM fault_attempts WHERE pid = $1 AND ended_at IS NOT NULL',
            [victim.pid],
          );
          return rows.length >= 1 && (done[0]?.n ?? 0) >= 6;
        },
        { intervalMs: 5, timeoutMs: 10_000 },
      );
      const killedAt = await killAndSettle(db, victim);
      const { rows: midChain } = await db.query<{ run_id: string }>(MID_CHAIN, [victim.pid]);
      assert.ok(midChain.length >= 1, 'the kill landed in the second step of a chain');
      for (const { run_id: runId } of midChain) {
        const { rows } = await db.query<{ name: string }>(
          `SELECT name FROM workflow_steps WHERE run_id = $1 AND status = 'completed'`,
          [runId],
        );
        assert.deepEqual(rows, [], `${runId}: its finished debit did not commit without the credit`);
      }

      await waitAllCompleted(db, RUNS, { alive: survivors });
      // Each db step's effect exactly once, by the execution recorded; counters equal a recount.
      await checkInvariants(db, { expectedRuns: RUNS, killedAt });

      const counts = await executionCounts(db);
      for (const { run_id: runId } of midChain) {
        assert.equal(counts.get(`${runId}:debit`), 2, `${runId}: debit ran again after the kill`);
        assert.equal(counts.get(`${runId}:credit`), 2, `${runId}: credit ran again after the kill`);
        assert.deepEqual(await attemptOutcomes(db, runId, 'debit'), ['interrupted', 'completed'], `${runId} debit`);
        assert.deepEqual(await attemptOutcomes(db, runId, 'credit'), ['completed'], `${runId} credit`);
        const { rows } = await db.query<{ worker: string }>(
          `SELECT DISTINCT output->>'worker' AS worker FROM workflow_steps WHERE run_id = $1 AND name IN ('debit', 'credit')`,
          [runId],
        );
        assert.deepEqual(
          rows.map((r) => r.worker),
          [survivors[0]?.name],
          'both recorded outputs are the survivor’s',
        );
      }
      assertSurvived(survivors);
    });
  },
);
