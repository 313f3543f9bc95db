import type { Db } from '../db/types.ts';
import { createBatcher } from './batcher.ts';
import { RUNS_CHANNEL } from './channel.ts';
import type { Registry } from './define.ts';
import type { NewRun } from './sql/insertRun.ts';
import { insertRuns } from './sql/insertRuns.ts';
import { checkRequest, existingRun, newRunRow, planSteps, startWorkflow } from './start.ts';
import type { StartRequest, StartResult } from './start.ts';

export interface Starter {
  /** Same contract as startWorkflow on the database: durable and idempotent when it resolves. */
  start(request: StartRequest): Promise<StartResult>;
}

/**
 * Starts runs for a busy caller (an API process, an event consumer): starts that arrive in the
 * same tick are inserted by one statement, so a burst costs a few commits instead of one each.
 * Every caller still waits for the commit that made its own run durable.
 */
export function createStarter(db: Db, registry: Registry, options: { maxBatch?: number } = {}): Starter {
  const batcher = createBatcher<NewRun, { type: string; status: string }>(
    async (runs) => {
      const inserted = await insertRuns(db, runs);
      const byId = new Map(inserted.map((r) => [r.id, r]));
      if (inserted.length > 0) db.notify(RUNS_CHANNEL, '');
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
      const run = newRunRow(definition.type, request, input, steps, {
        firstStepDone: false,
        notifyInStatement: false,
      });
      const row = await batcher.add(run);
      if (row) return { runId: run.id, type: row.type, status: row.status, created: true };
      return existingRun(db, definition.type, request);
    },
  };
}
