// What a workflow type's folder hands the registry (../registry.ts): all the rest of Billflow
// needs to know of the type. The registry list is the only place that names the types.
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

/** Starts a run from an API request body: writes its record and starts the run in one transaction. */
export type StartOperation = (
  db: Db,
  registry: Registry,
  raw: unknown,
  options?: OperationOptions,
) => Promise<OperationResult<unknown>>;

export interface WorkflowModule<T extends string = string, E extends string = string> {
  /** The identifier used in the API, the database and the UI. */
  type: T;
  /** What the admin UI's menu and filters call it. */
  label: string;
  /** The definition: steps, input parsing, concurrency. */
  define(deps: WorkflowDeps): AnyWorkflow;
  /** The operation the API starts runs with. */
  start: StartOperation;
  /** The API route that calls `start` (the completeness test finds it in the OpenAPI document). */
  route: { method: 'post'; path: string };
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
