// Workflow runs as the API shows them: schemas and the mapping from the engine's views.
import { Type } from 'typebox';
import { oneOf } from '../../billing/records/schemas.ts';
import type { OperationStatus, RunDetail, RunSummary } from '../../engine/index.ts';
import { RUN_STATUSES } from '../../engine/index.ts';
import { iso } from '../pagination.ts';
import { nullableTimestamp, timestamp } from '../schemas.ts';
import type { JsonSchema } from '../route.ts';
import type { Principal } from '../auth/principal.ts';
import { roleAtLeast } from '../auth/roles.ts';

/** Any JSON value (step outputs, errors, inputs). */
const anyJson: JsonSchema = {};
const nullableString: JsonSchema = { type: ['string', 'null'] };

export const runStatusSchema = oneOf(RUN_STATUSES, { title: 'RunStatus' });
export const runTypeSchema = Type.String({ pattern: '^[a-z][a-z0-9_:.-]{0,99}$', maxLength: 100 });
export const stepNameSchema = Type.String({ pattern: '^[a-z][a-z0-9_:.-]{0,99}$', maxLength: 100 });
/** Any record id: `cus_…`, `inv_…`, `sub_…`. */
export const recordIdSchema = Type.String({ pattern: '^[a-z]{1,10}_[a-z0-9]{1,64}$', maxLength: 80 });

const summaryProperties = {
  id: { type: 'string' },
  type: { type: 'string' },
  status: runStatusSchema,
  activity: {
    type: ['string', 'null'],
    enum: ['running', 'retrying', 'waiting', 'queued', null],
    description: 'What an in_progress run is doing: running a step, waiting for a retry or a timer, or queued.',
  },
  activity_until: { ...nullableTimestamp, description: 'When a waiting run is due again, or a running lease ends.' },
  current_step: nullableString,
  step_index: { type: 'integer' },
  step_count: { type: 'integer' },
  attempt: { type: 'integer' },
  subject_ref: nullableString,
  owner_ref: nullableString,
  concurrency_key: {
    ...nullableString,
    description: 'Runs with the same key (e.g. `customer:cus_…`) execute one at a time, in start order.',
  },
  waiting_for: {
    ...nullableString,
    description: 'For a queued run: the run of its concurrency key it waits for (the one running, or the one ahead).',
  },
  outcome: nullableString,
  failed_step: nullableString,
  error: anyJson,
  created_at: timestamp,
  started_at: nullableTimestamp,
  updated_at: timestamp,
  finished_at: nullableTimestamp,
  failed_at: {
    ...nullableTimestamp,
    description: 'When a failed run failed (what `failed_desc`/`failed_asc` sort by); null for a run not failed.',
  },
};

export const runSummarySchema: JsonSchema = {
  title: 'Run',
  type: 'object',
  required: ['id', 'type', 'status', 'step_index', 'step_count', 'created_at'],
  properties: summaryProperties,
};

/** A run as the run list shows it: the summary plus its customer's email. */
export const runListItemSchema: JsonSchema = {
  ...runSummarySchema,
  title: 'RunListItem',
  properties: {
    ...summaryProperties,
    customer_email: {
      ...nullableString,
      description: 'The email of the customer in `owner_ref`; null when the run belongs to no (known) customer.',
    },
  },
};

export const runActivitySchema: JsonSchema = {
  title: 'RunActivity',
  type: 'object',
  required: ['from', 'to', 'items'],
  properties: {
    from: timestamp,
    to: timestamp,
    items: {
      type: 'array',
      description: 'Oldest hour first; hours without runs are left out.',
      items: {
        type: 'object',
        required: ['hour', 'status', 'count'],
        properties: {
          hour: { ...timestamp, description: 'Start of the UTC hour.' },
          status: runStatusSchema,
          count: { type: 'integer' },
        },
      },
    },
  },
};

const attemptSchema: JsonSchema = {
  title: 'StepAttempt',
  type: 'object',
  required: ['attempt', 'number', 'outcome'],
  properties: {
    attempt: { type: 'integer', description: 'Within the current round of retries (1 after a restart).' },
    number: { type: 'integer', description: "Among all of the step's attempts, across restarts: #1, #2, …" },
    outcome: {
      type: 'string',
      description: 'completed, failed, retrying, waiting, finished (ended the run early) or interrupted (lease lost).',
    },
    started_at: timestamp,
    ended_at: timestamp,
    duration_ms: { type: 'integer' },
    error: anyJson,
    retry_in_ms: { type: 'integer', description: 'For a retrying attempt: the delay before the next one.' },
    until: { ...timestamp, description: 'For a waiting attempt: when the step runs again.' },
  },
  additionalProperties: true,
};

const stepSchema: JsonSchema = {
  title: 'RunStep',
  type: 'object',
  required: ['index', 'name', 'status', 'attempts', 'idempotency_key'],
  properties: {
    index: { type: 'integer' },
    name: { type: 'string' },
    status: {
      title: 'StepStatus',
      type: 'string',
      enum: ['pending', 'running', 'completed', 'failed', 'retrying', 'waiting', 'skipped'],
    },
    attempts: {
      type: 'array',
      items: attemptSchema,
      description:
        'Each attempt with its start, end, outcome and error, oldest first, across restarts. `number` counts ' +
        'every attempt of the step (it goes on after a restart); `attempt` counts within the current retries.',
    },
    output: anyJson,
    state: anyJson,
    error: anyJson,
    note: nullableString,
    idempotency_key: { type: 'string' },
    started_at: nullableTimestamp,
    finished_at: nullableTimestamp,
  },
};

const actorNameSchema: JsonSchema = {
  type: 'string',
  description: "Who, as people know them: a user's email, an API key's name, `command line`.",
};

const eventSchema: JsonSchema = {
  title: 'RunEvent',
  type: 'object',
  required: ['id', 'action', 'actor', 'actor_name', 'created_at'],
  properties: {
    id: { type: 'integer' },
    action: { type: 'string' },
    actor: { type: 'string' },
    actor_name: actorNameSchema,
    reason: nullableString,
    detail: { type: 'object', additionalProperties: true },
    created_at: timestamp,
  },
};

const auditItemSchema: JsonSchema = {
  title: 'RunAuditEntry',
  type: 'object',
  required: ['id', 'at', 'actor', 'actor_name', 'action'],
  properties: {
    id: { type: 'string' },
    at: timestamp,
    actor: { type: 'string' },
    actor_name: actorNameSchema,
    action: { type: 'string' },
    reason: nullableString,
    source_ip: nullableString,
  },
};

export const runDetailSchema: JsonSchema = {
  title: 'RunDetail',
  type: 'object',
  required: [...(runSummarySchema.required as string[]), 'steps', 'events', 'links', 'audit'],
  properties: {
    ...summaryProperties,
    input: anyJson,
    idempotency_key: nullableString,
    steps: { type: 'array', items: stepSchema },
    events: { type: 'array', items: eventSchema, description: 'Operator actions on this run, oldest first.' },
    audit: { type: 'array', items: auditItemSchema, description: 'Audit log entries that target this run.' },
    links: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'API paths of the records the run is about, by kind: { customer: "/api/v1/customers/cus_…" }.',
    },
  },
};

export const actionResultSchema: JsonSchema = {
  title: 'ActionResult',
  type: 'object',
  required: ['run_id', 'action', 'previous_status', 'status', 'detail'],
  properties: {
    run_id: { type: 'string' },
    action: { type: 'string', enum: ['restart', 'cancel', 'skip_step', 'run_now'] },
    previous_status: { type: 'string' },
    status: { type: 'string' },
    detail: { type: 'object', additionalProperties: true },
  },
};

export const operationSchema: JsonSchema = {
  title: 'WorkflowOperation',
  type: 'object',
  required: ['id', 'kind', 'name', 'status', 'matched', 'processed', 'restarted', 'skipped', 'created_at'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    name: { type: 'string' },
    filter: { type: 'object', additionalProperties: true },
    reason: { type: 'string' },
    actor: { type: 'string' },
    actor_name: actorNameSchema,
    status: { type: 'string', enum: ['running', 'completed'] },
    matched: { type: 'integer' },
    processed: { type: 'integer' },
    restarted: { type: 'integer' },
    skipped: { type: 'integer' },
    in_progress: { type: 'integer', description: 'Restarted runs still on their way.' },
    completed: { type: 'integer', description: 'Restarted runs that completed since.' },
    failed_again: {
      type: 'array',
      items: {
        type: 'object',
        properties: { run_id: { type: 'string' }, failed_step: nullableString, error: anyJson },
      },
    },
    created_at: timestamp,
    finished_at: nullableTimestamp,
  },
};

/** Record prefixes and the collection their records live under. */
const RECORD_KINDS: Record<string, { kind: string; path: string }> = {
  cus: { kind: 'customer', path: 'customers' },
  sub: { kind: 'subscription', path: 'subscriptions' },
  inv: { kind: 'invoice', path: 'invoices' },
  pay: { kind: 'payment', path: 'payments' },
  re: { kind: 'refund', path: 'refunds' },
  cb: { kind: 'chargeback', path: 'chargebacks' },
};

/** Links to the records a run is about, from the prefixes of its subject and owner refs. */
export function recordLinks(refs: (string | null)[]): Record<string, string> {
  const links: Record<string, string> = {};
  for (const ref of refs) {
    if (!ref) continue;
    const known = RECORD_KINDS[ref.slice(0, ref.indexOf('_'))];
    if (known && !(known.kind in links)) links[known.kind] = `/api/v1/${known.path}/${encodeURIComponent(ref)}`;
  }
  return links;
}

/**
 * What of a run's errors a caller sees. Everyone allowed to see a run sees each error's message,
 * name and code; stack traces (the server's file paths and internals) only developers and admins.
 */
export interface RunViewer {
  stacks: boolean;
}

export function runViewer(principal: Principal | null): RunViewer {
  return { stacks: principal !== null && roleAtLeast(principal.role, 'developer') };
}

/** An error as recorded by the engine ({name, message, stack, retryable, …}), stack traces removed. */
export function errorView(error: unknown, viewer: RunViewer): unknown {
  if (viewer.stacks || error === null || typeof error !== 'object') return error;
  if (Array.isArray(error)) return error.map((e) => errorView(e, viewer));
  return Object.fromEntries(
    Object.entries(error as Record<string, unknown>)
      .filter(([key]) => key !== 'stack')
      .map(([key, value]) => [key, errorView(value, viewer)]),
  );
}

export function runSummaryView(run: RunSummary, viewer: RunViewer) {
  return {
    ...run,
    error: errorView(run.error, viewer),
    activity_until: iso(run.activity_until),
    created_at: iso(run.created_at),
    started_at: iso(run.started_at),
    updated_at: iso(run.updated_at),
    finished_at: iso(run.finished_at),
    failed_at: iso(run.failed_at),
  };
}

export function runDetailView(
  run: RunDetail,
  audit: { id: string; at: string; actor: string; action: string }[],
  viewer: RunViewer,
  actorNames: Map<string, string> = new Map(),
) {
  const nameOf = (actor: string) => actorNames.get(actor) ?? actor;
  return {
    ...runSummaryView(run, viewer),
    input: run.input,
    idempotency_key: run.idempotency_key,
    steps: run.steps.map((s) => ({
      ...s,
      error: errorView(s.error, viewer),
      attempts: s.attempts.map((a, i) =>
        a !== null && typeof a === 'object'
          ? { ...a, ...('error' in a ? { error: errorView(a.error, viewer) } : {}), number: i + 1 }
          : a,
      ),
      started_at: iso(s.started_at),
      finished_at: iso(s.finished_at),
    })),
    events: run.events.map((e) => ({
      ...e,
      detail: e.detail && 'error' in e.detail ? { ...e.detail, error: errorView(e.detail.error, viewer) } : e.detail,
      actor_name: nameOf(e.actor),
      created_at: iso(e.created_at),
    })),
    audit: audit.map((a) => ({ ...a, actor_name: nameOf(a.actor) })),
    links: recordLinks([run.subject_ref, run.owner_ref]),
  };
}

export function operationView(op: OperationStatus, viewer: RunViewer) {
  return {
    ...op,
    failed_again: op.failed_again.map((f) => ({ ...f, error: errorView(f.error, viewer) })),
    created_at: iso(op.created_at),
    finished_at: iso(op.finished_at),
  };
}
