// The one shape every record-creating operation has: pick the record's id, start its run with
// the record written by the run's first step (one transaction), and answer with the record.
import type { Db, Queryable } from '../../../db/types.ts';
import { listRuns, startWorkflow } from '../../../engine/index.ts';
import type { Registry } from '../../../engine/index.ts';
import { PermanentError } from '../../../errors.ts';
import { withOrigin } from './origin.ts';
import type { OperationOptions, OperationResult } from './operation-options.ts';

export interface RecordRun {
  type: string;
  /** The parsed input plus the pre-chosen record id. */
  input: Record<string, unknown>;
  recordId: string;
  /** The first step's output field that names the record (a repeated key names the first one). */
  idField: string;
  ownerRef: string;
}

export async function startRecordRun<T>(
  db: Db,
  registry: Registry,
  request: RecordRun,
  options: OperationOptions,
  load: (q: Queryable, id: string) => Promise<T>,
): Promise<OperationResult<T>> {
  const started = await startWorkflow(db, registry, {
    type: request.type,
    input: withOrigin(request.input, options.origin),
    idempotencyKey: options.idempotencyKey,
    subjectRef: request.recordId,
    ownerRef: request.ownerRef,
    runFirstStep: true,
    inputChecked: options.inputChecked,
    now: options.now,
  });
  const output = started.firstStepOutput as Record<string, unknown> | null | undefined;
  const id = output?.[request.idField];
  if (typeof id !== 'string') throw new PermanentError(`run ${started.runId} has no ${request.idField}`);
  return { record: await load(db, id), runId: started.runId, created: started.created };
}

/**
 * A record that already exists under the provider's id (an event delivered again under another
 * key): answer with it and the run that made it, rather than a second run mailing it again.
 */
export async function existingRecordRun<T>(
  db: Db,
  type: string,
  record: T & { id: string },
): Promise<OperationResult<T> | undefined> {
  const runs = await listRuns(db, { type, subjectRef: record.id }, { limit: 1 });
  const run = runs.items[0];
  return run ? { record, runId: run.id, created: false } : undefined;
}

/** ISO text of a record's timestamp, for a run input built from the record. */
export function isoOf(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
