import type { Db, Queryable } from '../db/types.ts';
import { ConflictError, InvalidInputError, PermanentError } from '../errors.ts';
import { MAX_CONCURRENCY_KEY, stepIdempotencyKey } from './define.ts';
import type { DbStepContext, Registry, StepDefinition, WorkflowDefinition } from './define.ts';
import type { StartHooks } from './hooks.ts';
import { newId } from '../ids.ts';
import { insertRun } from './sql/insertRun.ts';
import type { NewRun } from './sql/insertRun.ts';
import { RUNS_CHANNEL } from './channel.ts';
import { resolveStep } from './steps.ts';

export interface StartRequest {
  type: string;
  input: unknown;
  /** Same key → the same run, never two (e.g. a provider's event id or an Idempotency-Key). */
  idempotencyKey?: string;
  /** The record the run is about, for look-ups ("runs of inv_123"). */
  subjectRef?: string;
  /** Who the record belongs to, for look-ups ("runs of cus_42"). */
  ownerRef?: string;
  /** Start later instead of now. */
  runAt?: Date;
  /**
   * Run the first step (it must be a db step) right now, inside the same transaction as the
   * insert, so the caller can answer with what it created. If it throws, nothing is created.
   */
  runFirstStep?: boolean;
  /**
   * The input was already validated against the workflow's input schema where it came from (an
   * API request body its route checked), so `parseInput` does not check it a second time.
   */
  inputChecked?: boolean;
  now?: Date;
}

export interface StartResult {
  runId: string;
  type: string;
  status: string;
  /** False when the idempotency key matched an existing run. */
  created: boolean;
  /** Output of the first step when `runFirstStep` was asked (also on a repeated key). */
  firstStepOutput?: unknown;
}

function isDb(q: Queryable): q is Db {
  return typeof (q as Partial<Db>).transaction === 'function';
}

/**
 * Starts a workflow run. Pass a transaction to make the run commit with the caller's own
 * writes; pass the database to run on its own.
 */
export async function startWorkflow(q: Queryable, registry: Registry, request: StartRequest): Promise<StartResult> {
  const { definition, input } = checkRequest(registry, request);
  const hooks = registry.startHooks;
  const traceParent = hooks?.traceParent?.(definition.type) ?? null;
  if (!isDb(q)) return reported(hooks, await start(q, definition, request, input, true, traceParent));
  const db = q;
  const result = request.runFirstStep
    ? await db.transaction((tx) => start(tx, definition, request, input, false, traceParent))
    : await start(db, definition, request, input, false, traceParent);
  if (result.created) db.notify(RUNS_CHANNEL, result.type);
  return reported(hooks, result);
}

/** Tells the registry's start hooks of a new run (a throwing hook is not the caller's problem). */
export function reported(hooks: StartHooks | undefined, result: StartResult): StartResult {
  if (result.created && hooks?.onRunStarted) {
    try {
      hooks.onRunStarted({ runId: result.runId, type: result.type });
    } catch {
      // Counting a start must never fail it.
    }
  }
  return result;
}

/** The definition and parsed input for a request, or an InvalidInputError naming the field. */
export function checkRequest(registry: Registry, request: StartRequest) {
  const definition = registry.get(request.type) as WorkflowDefinition<unknown> | undefined;
  if (!definition) {
    throw new InvalidInputError([{ field: 'type', message: `unknown workflow type "${request.type}"` }]);
  }
  if (request.idempotencyKey !== undefined && request.idempotencyKey.length > 255) {
    throw new InvalidInputError([{ field: 'idempotency_key', message: 'must be at most 255 characters' }]);
  }
  const input = definition.parseInput
    ? definition.parseInput(request.input, request.inputChecked === true)
    : request.input;
  return { definition, input };
}

/** The run's concurrency key (order per subject), if its workflow declares one. */
export function concurrencyKeyOf(definition: WorkflowDefinition<unknown>, request: StartRequest, input: unknown) {
  const key = definition.concurrency?.key(input, { subjectRef: request.subjectRef, ownerRef: request.ownerRef });
  if (key === undefined || key === '') return null;
  // A key comes from code, not from a caller: a bad one is a bug, not bad input.
  if (key.length > MAX_CONCURRENCY_KEY) throw new Error(`concurrency key of ${definition.type} is too long`);
  return key;
}

/** The row a start inserts, with a new id. */
export function newRunRow(
  definition: WorkflowDefinition<unknown>,
  request: StartRequest,
  input: unknown,
  steps: string[],
  flags: Pick<NewRun, 'firstStepDone' | 'notifyInStatement' | 'traceParent'>,
): NewRun {
  return {
    id: newId('run'),
    type: definition.type,
    concurrencyKey: concurrencyKeyOf(definition, request, input),
    keyHeldWhileWaiting: definition.concurrency?.holdWhileWaiting ?? false,
    steps,
    input,
    idempotencyKey: request.idempotencyKey ?? null,
    subjectRef: request.subjectRef ?? null,
    ownerRef: request.ownerRef ?? null,
    runAt: request.runAt ?? null,
    now: request.now ?? null,
    ...flags,
  };
}

/** The step names a new run pins. */
export async function planSteps(definition: WorkflowDefinition<unknown>, input: unknown, q: Queryable) {
  const steps = definition.plan ? await definition.plan(input, q) : definition.steps.map((s) => s.name);
  if (steps.length === 0 || new Set(steps).size !== steps.length) {
    throw new Error(`workflow ${definition.type} planned an empty or repeated step list: ${steps.join(', ')}`);
  }
  return steps;
}

async function start(
  q: Queryable,
  definition: WorkflowDefinition<unknown>,
  request: StartRequest,
  input: unknown,
  notifyInStatement: boolean,
  traceParent: string | null,
): Promise<StartResult> {
  const steps = await planSteps(definition, input, q);
  let first: StepDefinition<unknown> | undefined;
  if (request.runFirstStep) {
    first = await resolveStep(definition, steps[0] as string, q);
    if (first?.kind !== 'db') throw new Error(`the first step of ${definition.type} is not a db step`);
  }
  const row = newRunRow(definition, request, input, steps, {
    firstStepDone: first !== undefined,
    notifyInStatement,
    traceParent,
  });
  const runId = row.id;
  const inserted = await insertRun(q, row);
  if (!inserted) return existingRun(q, definition.type, request);
  if (first?.kind !== 'db') return { runId, type: inserted.type, status: inserted.status, created: true };

  const now = request.now ?? new Date();
  const ctx: DbStepContext<unknown> = {
    runId,
    type: definition.type,
    step: first.name,
    stepIndex: 0,
    input,
    outputs: {},
    attempt: 1,
    state: undefined,
    interrupted: false,
    firstAttempt: true,
    idempotencyKey: stepIdempotencyKey(runId, first.name),
    signal: new AbortController().signal,
    now: () => request.now ?? new Date(),
    tx: q,
  };
  const output = await first.run(ctx);
  await q.query(
    `INSERT INTO workflow_steps (run_id, step_index, name, status, output, attempts, started_at, finished_at)
     VALUES ($1, 0, $2, 'completed', $3::jsonb, $4::jsonb, $5, coalesce($6::timestamptz, now()))`,
    [
      runId,
      first.name,
      JSON.stringify(output ?? null),
      JSON.stringify([{ attempt: 1, started_at: now, ended_at: new Date(), outcome: 'completed', inline: true }]),
      now,
      request.now ?? null,
    ],
    { name: 'billflow_insert_inline_step' },
  );
  return { runId, type: inserted.type, status: inserted.status, created: true, firstStepOutput: output };
}

export async function existingRun(q: Queryable, type: string, request: StartRequest): Promise<StartResult> {
  const { rows } = await q.query<{ id: string; type: string; status: string; output: unknown }>(
    `SELECT r.id, r.type, r.status, s.output
     FROM workflow_runs r LEFT JOIN workflow_steps s ON s.run_id = r.id AND s.step_index = 0
     WHERE r.idempotency_key = $1`,
    [request.idempotencyKey],
  );
  const row = rows[0];
  if (!row) throw new PermanentError('idempotency key conflict, but the existing run is not visible');
  if (row.type !== type) {
    throw new ConflictError(`idempotency key already used for a ${row.type} run`, { run_id: row.id });
  }
  return {
    runId: row.id,
    type: row.type,
    status: row.status,
    created: false,
    ...(request.runFirstStep ? { firstStepOutput: row.output } : {}),
  };
}
