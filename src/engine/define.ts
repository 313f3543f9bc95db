import type { Queryable } from '../db/types.ts';
import type { StartHooks } from './hooks.ts';

export interface RetryPolicy {
  /** Total attempts including the first; 1 means no retry. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Growth per attempt (2 doubles the delay). */
  factor: number;
  /** Share of the delay that is randomized, 0..1, so retries of many runs spread out. */
  jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  factor: 2,
  jitter: 0.25,
};

export interface StepContext<I = unknown> {
  readonly runId: string;
  readonly type: string;
  readonly step: string;
  readonly stepIndex: number;
  readonly input: I;
  /** Outputs of the steps completed before this one, by step name. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** 1 for the first attempt of this step. */
  readonly attempt: number;
  /** What the step passed to `waitUntil` when it last asked to wait; undefined the first time. */
  readonly state: unknown;
  /**
   * True when an earlier attempt of this step may have been cut off mid-way (worker crashed or
   * lost its lease). A step that sends messages uses it to flag a possible duplicate.
   */
  readonly interrupted: boolean;
  /**
   * True only when no attempt of this step was ever made before — none failed, none was cut
   * off, none happened before an operator restart. Only then may a step skip looking up what
   * an earlier attempt did at a provider.
   */
  readonly firstAttempt: boolean;
  /** Stable for this run and step: the key to give a provider so a re-run never acts twice. */
  readonly idempotencyKey: string;
  /** Aborted when the step times out or the worker loses the run. */
  readonly signal: AbortSignal;
  now(): Date;
}

export interface DbStepContext<I = unknown> extends StepContext<I> {
  /** The transaction that also records this step as done: writes here commit exactly once. */
  readonly tx: Queryable;
}

const CONTROL = Symbol('billflow.stepControl');

export type StepControl =
  | { readonly [CONTROL]: 'wait'; readonly until: Date; readonly state: unknown }
  | { readonly [CONTROL]: 'finish'; readonly outcome: string; readonly output: unknown };

/** Returned by a step: run this same step again at `until` (durable), keeping `state` for it. */
export function waitUntil(until: Date, state?: unknown): StepControl {
  return { [CONTROL]: 'wait', until, state };
}

/** Returned by a step: the run is done; the remaining steps are marked skipped. */
export function finishRun(outcome: string, output?: unknown): StepControl {
  return { [CONTROL]: 'finish', outcome, output };
}

/** Key of the marker a skipped step leaves as its output (see `isSkippedOutput`). */
export const SKIPPED = '$skipped';

/**
 * What later steps find as the output of a step an operator skipped: never a missing output,
 * so a step that reads it must decide explicitly what a skipped step means for it.
 */
export interface SkippedOutput {
  readonly [SKIPPED]: true;
  readonly reason: string;
  readonly actor: string;
}

export function isSkippedOutput(value: unknown): value is SkippedOutput {
  return value !== null && typeof value === 'object' && (value as Record<string, unknown>)[SKIPPED] === true;
}

export function asStepControl(value: unknown): StepControl | undefined {
  return value !== null && typeof value === 'object' && CONTROL in value ? (value as StepControl) : undefined;
}

export function controlKind(control: StepControl): 'wait' | 'finish' {
  return control[CONTROL];
}

interface StepCommon {
  name: string;
  retry?: Partial<RetryPolicy>;
  /**
   * What skipping this step after it failed means for the run, in an operator's words (shown
   * before a skip). Steps after it see a skipped marker as its output (see `isSkippedOutput`).
   */
  whenSkipped?: string;
  /**
   * An attempt running longer than this fails as a transient error (and is retried), so a hung
   * call cannot hold a run forever. Default 5 minutes; 0 turns it off. The step's `signal` is
   * aborted then; a db step's `tx` refuses its queries from then on.
   */
  timeoutMs?: number;
}

export interface DbStep<I = unknown> extends StepCommon {
  kind: 'db';
  run(ctx: DbStepContext<I>): Promise<unknown>;
  /**
   * Lets a group-commit batch run several runs' attempts of this step side by side in its one
   * transaction, their queries pipelined, instead of one after the other. Only for a step none
   * of whose queries depends on what another run's attempt wrote in that transaction: inserts,
   * single-statement updates (`SET n = n + 1`). Not for one that reads rows and then writes
   * from what it read (a status recomputed from the customer's row): two attempts for the same
   * customer would both read the row before either writes it. Default false.
   */
  sideBySide?: boolean;
}

export interface ExternalStep<I = unknown> extends StepCommon {
  kind: 'external';
  run(ctx: StepContext<I>): Promise<unknown>;
}

export type StepDefinition<I = unknown> = DbStep<I> | ExternalStep<I>;

/** Where a run stands in its subject's order: who it waits for. */
export interface StartRefs {
  subjectRef?: string;
  ownerRef?: string;
}

/**
 * Order per subject: runs whose key is the same execute one at a time, in start order, across all
 * workers (e.g. every run about one customer, so two of them never race at a payment provider).
 */
export interface ConcurrencyPolicy<I> {
  /** The run's key, from its input and references; undefined leaves the run unordered. */
  key(input: I, refs: StartRefs): string | undefined;
  /**
   * Whether a run parked on a durable timer (`waitUntil`) keeps its key meanwhile. Default false:
   * a run that waits days (an invoice's due date, dunning) lets the key's other runs go, and
   * takes its turn again in start order when it wakes. Retry backoffs always keep the key.
   */
  holdWhileWaiting?: boolean;
}

/**
 * How a run stopped short of completing, told to its workflow's `onEnd` inside the transaction
 * that records it, so what the workflow undoes or settles commits exactly when the run ends.
 */
export interface RunEndContext<I = unknown> {
  readonly runId: string;
  readonly type: string;
  readonly input: I;
  /** `failed`: a step failed for good (an operator may restart it later). `cancelled`: for good. */
  readonly status: 'failed' | 'cancelled';
  /** The steps the run pinned; those before `stepIndex` completed (or were skipped). */
  readonly steps: readonly string[];
  /** The step the run stopped at: the failed one, or the one it was at when cancelled. */
  readonly stepIndex: number;
  /**
   * True when a cancel came while an attempt of that step was running in a worker: the step may
   * still be acting outside (at a provider). Throwing from `onEnd` then refuses the cancel.
   */
  readonly stepRunning: boolean;
  /** The failure's message, or the operator's reason for the cancel. */
  readonly reason: string;
  /** The transaction that records the run's end. */
  readonly tx: Queryable;
  now(): Date;
}

export interface WorkflowDefinition<I = unknown> {
  type: string;
  steps: StepDefinition<I>[];
  concurrency?: ConcurrencyPolicy<I>;
  /**
   * Called when a run fails for good (after its retries) or is cancelled, in the transaction
   * that records that: the place to release what the run reserved or to mark its record as not
   * done. Not called when a run completes (its last steps do that). A restarted run that fails
   * again is told again, so it must be idempotent. Throwing refuses a cancel; when a failure is
   * recorded, a throw is logged and noted on the run, and the failure stands.
   */
  onEnd?(ctx: RunEndContext<I>): Promise<void>;
  /**
   * Checks and normalizes the input at start; throw InvalidInputError to refuse it. `checked`
   * is true when the starter already validated the input against its schema (see
   * StartRequest.inputChecked): skip that check, keep the rest (defaults, normalizing, rules
   * between fields).
   */
  parseInput?(input: unknown, checked: boolean): I;
  /**
   * The step names a new run pins, in order; defaults to `steps`. Lets a deployment insert
   * steps of its own (resolved by `resolveStep`) without touching runs already started.
   */
  plan?(input: I, db: Queryable): Promise<string[]>;
  /** Finds a step that is not in `steps` (e.g. an operator-defined one) by its pinned name. */
  resolveStep?(name: string, db: Queryable): Promise<StepDefinition<I> | undefined>;
}

/** A definition with its input type erased, so definitions of different inputs share a registry. */
export type AnyWorkflow = Omit<WorkflowDefinition<never>, 'parseInput'> & {
  parseInput?(input: unknown, checked: boolean): unknown;
};

/** The workflow types by name; `startHooks` (see withStartHooks) are told of every start through it. */
export type Registry = ReadonlyMap<string, AnyWorkflow> & { readonly startHooks?: StartHooks };

const NAME = /^[a-z][a-z0-9_:.-]{0,99}$/;

/** A concurrency key is stored and compared as text: bounded so an input cannot bloat an index. */
export const MAX_CONCURRENCY_KEY = 200;

export function defineWorkflow<I>(definition: WorkflowDefinition<I>): WorkflowDefinition<I> {
  if (!NAME.test(definition.type)) throw new Error(`invalid workflow type name: ${definition.type}`);
  if (definition.steps.length === 0) throw new Error(`workflow ${definition.type} has no steps`);
  const seen = new Set<string>();
  for (const step of definition.steps) {
    if (!NAME.test(step.name)) throw new Error(`invalid step name in ${definition.type}: ${step.name}`);
    if (seen.has(step.name)) throw new Error(`duplicate step ${step.name} in ${definition.type}`);
    seen.add(step.name);
  }
  return definition;
}

export function createRegistry(definitions: AnyWorkflow[]): Registry {
  const registry = new Map<string, AnyWorkflow>();
  for (const definition of definitions) {
    if (registry.has(definition.type)) throw new Error(`workflow type ${definition.type} defined twice`);
    registry.set(definition.type, definition);
  }
  return registry;
}

/** The same workflows, with hooks every start through the result reports to. */
export function withStartHooks(registry: Registry, startHooks: StartHooks | undefined): Registry {
  if (!startHooks) return registry;
  return Object.assign(new Map(registry), { startHooks });
}

export const DEFAULT_STEP_TIMEOUT_MS = 5 * 60_000;

export function retryPolicy(step: StepDefinition<never>): RetryPolicy {
  return { ...DEFAULT_RETRY, ...step.retry };
}

/**
 * The key a step's attempts share (`StepContext.idempotencyKey`): the same on every retry and
 * after a restart, so a provider can tell a repeat, and `onEnd` can ask what the step did.
 */
export function stepIdempotencyKey(runId: string, stepName: string): string {
  return `${runId}:${stepName}`;
}
