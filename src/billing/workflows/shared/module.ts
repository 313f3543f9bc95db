// What a workflow type's folder hands the registry (../registry.ts): all the rest of Billflow
// needs to know of the type. The registry list is the only place that names the types.
import type { Static, TSchema } from 'typebox';
import type { Db, Queryable } from '../../../db/types.ts';
import type { AnyWorkflow, Registry } from '../../../engine/index.ts';
import type { EventNotifications } from '../../../notify/index.ts';
import type { WorkflowDeps } from './deps.ts';
import type { OperationOptions, OperationResult } from './operation-options.ts';

/** A manual trigger's run input, built from a record that already exists. */
export interface TriggerInput {
  /** The run input, the record's own id included, so the record step finds it. */
  input: Record<string, unknown>;
  /** The customer the run is about (its concurrency key). */
  ownerRef: string;
}

/** How an operator starts a run of the type for an existing record (POST /workflows). */
export interface TriggerBuilder {
  /** The id prefix of the record the trigger takes: sub, pay, inv, re or cb. */
  prefix: string;
  /** Undefined when there is no such record. */
  build(q: Queryable, id: string, reason: string): Promise<TriggerInput | undefined>;
}

/** What the start route hands its operation: the body (validated against `body`) and the path's id. */
export interface StartRequest<B> {
  body: B;
  /** The `{id}` of the path, when it has one. */
  id?: string;
}

/** What the audit log records of a start besides the actor, action and time. */
export interface StartAudit {
  target: string | null;
  reason: string | null;
  details: Record<string, unknown>;
}

/**
 * The API route that starts a run of the type: declared here, mounted by the API for every
 * registered type (src/http/routes/workflow-starts.ts). `body` is the one schema of the request:
 * the API validates it (once, without converting types) and `start` receives it typed.
 */
export interface StartRoute<B extends TSchema = TSchema, R extends object = object> {
  method: 'post';
  /** OpenAPI form, under /api/v1: `/subscriptions/{id}/cancel`. */
  path: string;
  /** Unique over the API, camelCase: names the operation in OpenAPI and the UI's generated client. */
  operationId: string;
  summary: string;
  description?: string;
  /** The lowest role allowed. */
  access: 'customer_support';
  /** The id prefix of the path's `{id}`, when it has one. */
  idPrefix?: string;
  body: B;
  /** 201 when the run's record is new, 202 when the run acts on an existing one. */
  status: 201 | 202;
  /** The answer's record (`{ <name>: record, workflow_run_id }`); without it `{ workflow_run_id }`. */
  answer?: { name: string; schema: Record<string, unknown> };
  /** Writes the record and starts the run in one transaction (idempotent per `options.idempotencyKey`). */
  start(
    db: Db,
    registry: Registry,
    request: StartRequest<Static<B>>,
    options: OperationOptions,
  ): Promise<OperationResult<R>>;
  /** The audit action recorded when it succeeds, and its entry. */
  audit?: { action: string; entry(request: StartRequest<Static<B>>, result: OperationResult<R>): StartAudit };
}

/** A start route with its body type kept for its own functions, erased for the registry. */
export function startRoute<B extends TSchema, R extends object>(route: StartRoute<B, R>): StartRoute {
  return route;
}

export interface WorkflowModule<T extends string = string, E extends string = string> {
  /** The identifier used in the API, the database and the UI. */
  type: T;
  /** What the admin UI's menu and filters call it. */
  label: string;
  /** The definition: steps, input parsing, concurrency. */
  define(deps: WorkflowDeps): AnyWorkflow;
  /** The API route that starts runs of the type (mounted by the API; types may share one). */
  route: StartRoute;
  trigger: TriggerBuilder;
  /**
   * The notification events its steps send, each with its shipped texts and preview sample (the
   * folder's notifications.ts); billing's notification catalogue is built from these.
   */
  notifications: EventNotifications<E>;
}

/** A module with its type and events kept literal, so the registry's lists are typed. */
export function workflowModule<const T extends string, E extends string>(
  module: WorkflowModule<T, E>,
): WorkflowModule<T, E> {
  return module;
}
