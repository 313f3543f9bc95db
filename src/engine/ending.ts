// A workflow's `onEnd`, called in the transaction that records a run's failure or cancellation.
import type { Queryable } from '../db/types.ts';
import type { RunEndContext, WorkflowDefinition } from './define.ts';
import type { Logger } from './hooks.ts';

/** Deadlock or serialization failure: the caller's transaction is retried as a whole. */
function isConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * Tells the workflow that the failure being recorded in `tx` ends its run. The failure must be
 * recorded whatever the hook does: a hook that throws has its writes rolled back, is logged and
 * noted on the run (the operator sees it; a restart that fails again tells the hook again).
 */
export async function tellRunFailed(
  tx: Queryable,
  definition: WorkflowDefinition<unknown> | undefined,
  ctx: Omit<RunEndContext<unknown>, 'tx' | 'status' | 'stepRunning'>,
  logger: Logger,
): Promise<void> {
  if (!definition?.onEnd) return;
  await tx.query('SAVEPOINT billflow_run_end');
  try {
    await definition.onEnd({ ...ctx, tx, status: 'failed', stepRunning: false });
    await tx.query('RELEASE SAVEPOINT billflow_run_end');
  } catch (error) {
    if (isConflict(error)) throw error;
    await tx.query('ROLLBACK TO SAVEPOINT billflow_run_end');
    logger.error({ err: error, runId: ctx.runId, type: ctx.type }, 'the workflow could not settle its failed run');
    const message = error instanceof Error ? error.message : String(error);
    await tx.query(
      `INSERT INTO workflow_run_events (run_id, action, actor, reason, detail, created_at)
       VALUES ($1, 'end_hook_failed', 'engine', $2, $3, coalesce($4::timestamptz, now()))`,
      [ctx.runId, message, JSON.stringify({ step: ctx.steps[ctx.stepIndex] ?? null }), ctx.now()],
    );
  }
}
