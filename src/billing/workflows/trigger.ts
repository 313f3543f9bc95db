// Manual trigger: an operator starts a workflow for a record that already exists.
import type { Db } from '../../db/types.ts';
import { startWorkflow } from '../../engine/index.ts';
import type { Registry } from '../../engine/index.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import { WORKFLOW_TYPES, moduleOf } from './registry.ts';
import type { WorkflowType } from './registry.ts';

export interface TriggerRequest {
  type: string;
  /** The existing record the run is about: sub_, pay_, inv_, re_ or cb_. */
  subjectId: string;
  reason: string;
  /** Who asked, as the audit log names them (the caller audits the trigger under it). */
  actor: string;
  /** Same key → the same run, never two. */
  idempotencyKey?: string;
  now?: Date;
}

export interface TriggerResult {
  runId: string;
  type: WorkflowType;
  status: string;
  created: boolean;
  ownerRef: string;
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/**
 * Starts a workflow of `type` for the existing record `subjectId`, with the input built from the
 * record and its id, so the run's record step finds the record instead of making another. The
 * first (db) step runs right away; should it still refuse the record, nothing is left behind and
 * the answer is a 409.
 */
export async function triggerWorkflow(db: Db, registry: Registry, request: TriggerRequest): Promise<TriggerResult> {
  if (!(WORKFLOW_TYPES as readonly string[]).includes(request.type) || !registry.has(request.type)) {
    throw new InvalidInputError([{ field: 'type', message: `must be one of ${WORKFLOW_TYPES.join(', ')}` }]);
  }
  if (!request.reason.trim()) throw new InvalidInputError([{ field: 'reason', message: 'a reason is required' }]);
  const type = request.type as WorkflowType;
  const builder = moduleOf(type).trigger;
  if (!request.subjectId.startsWith(`${builder.prefix}_`)) {
    throw new InvalidInputError([{ field: 'subject_id', message: `a ${type} run needs a ${builder.prefix}_ record` }]);
  }
  const built = await builder.build(db, request.subjectId, request.reason.trim());
  if (!built) throw new NotFoundError(`record ${request.subjectId} not found`);
  const definition = registry.get(type);
  try {
    const started = await startWorkflow(db, registry, {
      type,
      input: built.input,
      idempotencyKey: request.idempotencyKey,
      subjectRef: request.subjectId,
      ownerRef: built.ownerRef,
      runFirstStep: definition?.steps[0]?.kind === 'db',
      now: request.now,
    });
    return { runId: started.runId, type, status: started.status, created: started.created, ownerRef: built.ownerRef };
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(
        `the first step of ${type} creates its record and cannot reuse the existing ${request.subjectId}`,
        { field: 'subject_id' },
      );
    }
    throw error;
  }
}

/** The id prefix of the record a manual trigger of `type` takes: sub, pay, inv, re or cb. */
export function triggerSubjectPrefix(type: WorkflowType): string {
  return moduleOf(type).trigger.prefix;
}
