// kill -9 of a worker process in the middle of its steps: its leases expire, the other
// processes take its runs over and finish them; what it completed never runs again, what it
// was doing runs again and the step's history says it was interrupted.
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

const RUNS = 90;

postgresTest('kill -9 mid-step: the others take over after the lease; nothing completed runs again', async () => {
  const { db, url } = await faultDatabase();
  await withWorkers(url, async ({ spawn }) => {
    // External steps long enough that a kill lands inside one.
    const spec = { concurrency: 4, dbMs: '5-20', extMs: '80-200' };
    const [victim, ...survivors] = await Promise.all(['victim', 'b', 'c'].map((label) => spawn(label, spec)));
    assert.ok(victim);
    await startRuns(db, 'fault_chain', RUNS);

    // Kill once the victim has finished some steps and is in the middle of others.
    await until(
      'the victim in the middle of steps',
      async () => {
        const { rows } = await db.query<{ done: number; open: number }>(
          `SELECT count(*) FILTER (WHERE ended_at IS NOT NULL)::int AS done,
                  count(*) FILTER (WHERE ended_at IS NULL)::int AS open
           FROM fault_attempts WHERE pid = $1`,
          [victim.pid],
        );
        return (rows[0]?.done ?? 0) >= 8 && (rows[0]?.open ?? 0) >= 2;
      },
      { intervalMs: 20, timeoutMs: 10_000 },
    );
    // Once its sessions are gone nothing of the victim can still commit: a snapshot now is final.
    const killedAt = await killAndSettle(db, victim);
    const { rows: completedBefore } = await db.query<{ key: string }>(
      `SELECT run_id || ':' || name AS key FROM workflow_steps WHERE status = 'completed'`,
    );
    const { rows: cutOff } = await db.query<{ run_id: string; step: string }>(
      'SELECT run_id, step FROM fault_attempts WHERE pid = $1 AND ended_at IS NULL',
      [victim.pid],
    );
    const { rows: held } = await db.query<{ id: string }>(
      `SELECT id FROM workflow_runs WHERE lease_owner = $1 AND status = 'in_progress'`,
      [`${victim.name}:${victim.pid}`],
    );
    assert.ok(cutOff.length >= 1, 'the kill interrupted at least one step');
    assert.ok(held.length >= cutOff.length, 'the victim still held the runs it was executing');
    assert.ok(completedBefore.length > 0);

    await waitAllCompleted(db, RUNS, { alive: survivors });
    await checkInvariants(db, { expectedRuns: RUNS, killedAt });

    const counts = await executionCounts(db);
    const again = completedBefore.filter((s) => counts.get(s.key) !== 1);
    assert.deepEqual(again.slice(0, 5), [], 'no step completed before the kill executed again');

    for (const { run_id: runId, step } of cutOff) {
      assert.equal(counts.get(`${runId}:${step}`), 2, `${runId}:${step} ran once more, after the kill`);
      assert.deepEqual(
        await attemptOutcomes(db, runId, step),
        ['interrupted', 'completed'],
        `${runId}:${step} history`,
      );
      const { rows } = await db.query<{ worker: string }>(
        `SELECT output->>'worker' AS worker FROM workflow_steps WHERE run_id = $1 AND name = $2`,
        [runId, step],
      );
      assert.notEqual(rows[0]?.worker, victim.name, 'the recorded output is the survivor’s');
    }

    // Interrupted attempts are recorded exactly for the runs the victim held, once each.
    const { rows: interrupted } = await db.query<{ run_id: string; n: number }>(
      `SELECT run_id, count(*)::int AS n FROM workflow_steps, jsonb_array_elements(attempts) AS a
       WHERE a->>'outcome' = 'interrupted' GROUP BY run_id`,
    );
    assert.deepEqual(
      interrupted.map((r) => `${r.run_id}:${r.n}`).sort(),
      held.map((r) => `${r.id}:1`).sort(),
      'one interrupted attempt per run taken over',
    );

    assertSurvived(survivors);
  });
});
