import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Queryable } from '../../src/db/types.ts';
import { createRegistry, defineWorkflow, startWorkflow } from '../../src/engine/index.ts';
import { claimRuns } from '../../src/engine/sql/claimRuns.ts';
import { recordOutcomes } from '../../src/engine/sql/recordOutcomes.ts';
import { extendLeases, releaseRuns } from '../../src/engine/sql/leases.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { doneOutcome } from '../helpers/engine.ts';

// The hot path must cost the same at any table size, statistics or not. A new database has no
// statistics, and PostgreSQL keeps the plan a connection made of a prepared statement while the
// table was small: inline, a checkpoint batch then read all of workflow_runs and a claim sorted
// every due run, so a burst slowed down as it grew.
const BACKLOG = 20_000;

const flow = defineWorkflow({
  type: 'two',
  steps: ['a', 'b'].map((name) => ({ name, kind: 'external' as const, run: async () => name })),
});

/** workflow_runs pages this transaction has read so far (not yet sent to the statistics system). */
async function pagesRead(tx: Queryable): Promise<number> {
  const { rows } = await tx.query<{ pages: number }>(
    `SELECT pg_stat_get_xact_blocks_fetched('workflow_runs'::regclass)::int AS pages`,
  );
  return rows[0]?.pages ?? 0;
}

eachDatabase((kind) => {
  test('claims, checkpoints, lease renewals and releases read a few pages of a large, never analyzed backlog', async () => {
    const { db } = await freshDatabase(kind);
    const registry = createRegistry([flow]);
    const claimArgs = { workerId: 'w', types: ['two'], leaseMs: 30_000, now: null };

    // Plans are made (and on PostgreSQL kept) while the table holds a few dozen runs, in batches
    // large enough that PostgreSQL prefers a generic plan to planning each call.
    for (let i = 0; i < 8; i++) {
      for (let k = 0; k < 6; k++) await startWorkflow(db, registry, { type: 'two', input: {} });
      const claimed = await claimRuns(db, { ...claimArgs, limit: 30 });
      await recordOutcomes(
        db,
        claimed.map((run) => doneOutcome(run)),
        { leaseMs: 30_000, now: null, claim: { ...claimArgs, limit: 30 } },
      );
      // The heartbeat and the release of runs, planned on the small table as well.
      const held = await claimRuns(db, { ...claimArgs, limit: 30 });
      await extendLeases(db, held, { workerId: 'w', leaseMs: 30_000, now: null });
      await releaseRuns(db, held, { workerId: 'w', now: null, interrupted: false });
    }

    await db.query(
      `INSERT INTO workflow_runs (id, type, steps, input)
       SELECT 'backlog_' || g, 'two', ARRAY['a', 'b'], '{}' FROM generate_series(1, $1::int) AS g`,
      [BACKLOG],
    );
    const { rows } = await db.query<{ analyzed: boolean }>(
      `SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL AS analyzed
       FROM pg_stat_user_tables WHERE relname = 'workflow_runs'`,
    );
    assert.equal(rows[0]?.analyzed, false, 'the table must not have statistics for this test');

    const pages = await db.transaction(async (tx) => {
      const start = await pagesRead(tx);
      const claimed = await claimRuns(tx, { ...claimArgs, limit: 10 });
      assert.equal(claimed.length, 10);
      const afterClaim = await pagesRead(tx);
      const { recorded, claimed: next } = await recordOutcomes(
        tx,
        claimed.map((run) => doneOutcome(run)),
        {
          leaseMs: 30_000,
          now: null,
          claim: { ...claimArgs, limit: 10 },
        },
      );
      assert.equal(recorded.length, 10);
      assert.equal(next.length, 10);
      const afterCheckpoint = await pagesRead(tx);
      assert.equal((await extendLeases(tx, next, { workerId: 'w', leaseMs: 30_000, now: null })).length, 10);
      const afterHeartbeat = await pagesRead(tx);
      assert.equal(await releaseRuns(tx, next, { workerId: 'w', now: null, interrupted: false }), 10);
      return {
        claim: afterClaim - start,
        checkpointAndClaim: afterCheckpoint - afterClaim,
        heartbeat: afterHeartbeat - afterCheckpoint,
        release: (await pagesRead(tx)) - afterHeartbeat,
      };
    });
    // The backlog spans hundreds of pages; index lookups read a few per run they touch (61, 173, 37
    // and 65 measured; a sequential scan or a sort of the backlog reads it all: a checkpoint read
    // 569 pages on PostgreSQL and 4,188 on PGlite with the statements planned inline).
    const { rows: size } = await db.query<{ pages: number }>(
      `SELECT pg_relation_size('workflow_runs') / current_setting('block_size')::int AS pages`,
    );
    assert.ok((size[0]?.pages ?? 0) > 300, `backlog spans ${size[0]?.pages} pages`);
    assert.ok(pages.claim < 100, `claiming 10 runs read ${pages.claim} pages`);
    assert.ok(
      pages.checkpointAndClaim < 300,
      `recording 10 results and claiming 10 read ${pages.checkpointAndClaim} pages`,
    );
    assert.ok(pages.heartbeat < 100, `renewing 10 leases read ${pages.heartbeat} pages`);
    assert.ok(pages.release < 100, `releasing 10 runs read ${pages.release} pages`);
  });
});
