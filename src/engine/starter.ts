import type { Db } from '../db/types.ts';
import { createBatcher } from './batcher.ts';
import { RUNS_CHANNEL } from './channel.ts';
import type { Registry } from './define.ts';
import { insertRuns } from './sql/insertRuns.ts';
import type { NewRunToClaim } from './sql/insertRuns.ts';
import type { Worker } from './worker.ts';
import { checkRequest, existingRun, newRunRow, planSteps, reported, startWorkflow } from './start.ts';
import type { StartRequest, StartResult } from './start.ts';

export interface Starter {
  /** Same contract as startWorkflow on the database: durable and idempotent when it resolves. */
  start(request: StartRequest): Promise<StartResult>;
}

/**
 * Starts runs for a busy caller (an API process, an event consumer): starts that arrive in the
 * same tick are inserted by one statement, so a burst costs a few commits instead of one each.
 * Every caller still waits for the commit that made its own run durable.
 *
 * Option `worker` (in-process starts), for a process that both starts runs and works them: a run
 * that may start now goes to that worker of this process while it has room, inserted already
 * claimed by it and run as soon as the insert commits, with no NOTIFY and no claim before its
 * first step (docs/performance.md, "In-process starts"). The worker's `takePlace`, `adopt` and
 * `givePlaceBack` exist for this option. `billflow start` uses no starter: its API starts run
 * their first step inline, in the request's transaction.
 */
export function createStarter(
  db: Db,
  registry: Registry,
  options: { maxBatch?: number; worker?: Worker } = {},
): Starter {
  const worker = options.worker;
  const batcher = createBatcher<NewRunToClaim, { type: string; status: string }>(
    async (runs) => {
      let inserted;
      try {
        inserted = await insertRuns(db, runs);
      } catch (error) {
        for (const run of runs) if (run.claim) worker?.givePlaceBack();
        throw error;
      }
      const byId = new Map(inserted.map((r) => [r.id, r]));
      let othersToWake = false;
      for (const run of runs) {
        const row = byId.get(run.id);
        if (run.claim && row?.claimed) {
          worker?.adopt({
            id: row.id,
            type: row.type,
            steps: run.steps,
            step_index: 0,
            attempt: 0,
            input: row.input,
            version: row.version,
            previous_owner: null,
            outputs: null,
            state: null,
            lease_left_ms: run.claim.leaseMs,
            prior_attempts: 0,
          });
        } else if (run.claim) {
          worker?.givePlaceBack();
        }
        if (row && !row.claimed) othersToWake = true;
      }
      if (othersToWake) db.notify(RUNS_CHANNEL, '');
      return new Map(
        runs.flatMap((run) => {
          const row = byId.get(run.id);
          return row ? [[run, row] as const] : [];
        }),
      );
    },
    { maxBatch: options.maxBatch ?? 500, maxInFlight: 2 },
  );

  return {
    async start(request) {
      // Inline first steps need their own transaction: no batching for those.
      if (request.runFirstStep) return startWorkflow(db, registry, request);
      const { definition, input } = checkRequest(registry, request);
      const steps = await planSteps(definition, input, db);
      const row = newRunRow(definition, request, input, steps, {
        firstStepDone: false,
        notifyInStatement: false,
        traceParent: registry.startHooks?.traceParent?.(definition.type) ?? null,
      });
      const run: NewRunToClaim = {
        ...row,
        // A run scheduled for later is left to whichever worker is free then; a keyed run takes its
        // turn through a claim.
        claim: request.runAt === undefined && row.concurrencyKey === null ? (worker?.takePlace() ?? null) : null,
      };
      const inserted = await batcher.add(run);
      if (inserted) {
        return reported(registry.startHooks, {
          runId: run.id,
          type: inserted.type,
          status: inserted.status,
          created: true,
        });
      }
      return existingRun(db, definition.type, request);
    },
  };
}
