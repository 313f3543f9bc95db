import type { SerializedError } from './execute.ts';

/** Structured logging as pino does it; the engine logs nothing unless given one. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface StepFailedEvent {
  runId: string;
  type: string;
  step: string;
  attempt: number;
  error: unknown;
  /** Set when the step will be tried again; absent when this failure stops the run. */
  retryAt?: Date;
}

export interface RunFailedEvent {
  runId: string;
  type: string;
  step: string;
  /** The attempt at `step` that failed the run. */
  attempt: number;
  error: unknown;
}

export interface RunCompletedEvent {
  runId: string;
  type: string;
  outcome: string;
}

/** How a step attempt ended, as far as the worker that ran it knows. */
export type AttemptOutcome =
  | 'completed'
  | 'waiting'
  | 'finished'
  | 'retrying'
  | 'failed'
  /** The result was refused: the run was taken over, cancelled or changed meanwhile. */
  | 'rejected'
  /** The database did not answer while recording it; the run was given back. */
  | 'unrecorded';

export interface StepAttemptStart {
  runId: string;
  type: string;
  step: string;
  /** 1 for the first attempt at this step. */
  attempt: number;
}

export interface StepAttemptEvent extends StepAttemptStart {
  outcome: AttemptOutcome;
  /** From the attempt's start until its result was recorded (or refused). */
  durationMs: number;
  error?: unknown;
}

export interface LeaseTakeoverEvent {
  runId: string;
  type: string;
  step: string;
  /** The worker whose lease expired. */
  previousOwner: string;
}

/** A scope around one step attempt (a trace span): the attempt runs inside it, then it is ended. */
export interface StepScope {
  run<T>(attempt: () => Promise<T>): Promise<T>;
  /** Re-enters the scope for the attempt's own code where it runs apart (a db step's group commit). */
  enter<T>(code: () => Promise<T>): Promise<T>;
  end(event: StepAttemptEvent): void;
}

export interface RunStartedEvent {
  runId: string;
  type: string;
}

/**
 * What starts report, given to createRegistry so that every start through the registry sees them
 * (API requests, inbound events, runs started by steps, the calendar).
 */
export interface StartHooks {
  /** Called when a start inserted a new run (not for a repeated idempotency key). */
  onRunStarted?(event: RunStartedEvent): void;
  /**
   * The caller's trace context as a W3C traceparent, stored with the new run so that its step
   * attempts join the trace of whatever started it. Undefined stores none.
   */
  traceParent?(type: string): string | undefined;
}

/**
 * Where alerts and metrics attach without the engine knowing them. Called after the result is
 * committed, in the process that recorded it; a throwing hook is logged, never fatal.
 */
export interface EngineHooks {
  onStepFailed?(event: StepFailedEvent): void | Promise<void>;
  onRunFailed?(event: RunFailedEvent): void | Promise<void>;
  onRunCompleted?(event: RunCompletedEvent): void | Promise<void>;
  onLeaseTakeover?(event: LeaseTakeoverEvent): void | Promise<void>;
  /**
   * Every attempt, however it ended. Called synchronously on the hot path (once per attempt), so
   * it must be cheap: count, observe, return.
   */
  onStepAttempt?(event: StepAttemptEvent): void;
  /** Wraps every attempt (tracing); without it the attempt runs as is. */
  stepScope?(attempt: StepAttemptStart): StepScope;
}

export function fireHook<E>(logger: Logger, hook: ((event: E) => void | Promise<void>) | undefined, event: E): void {
  if (!hook) return;
  queueMicrotask(() => {
    Promise.resolve()
      .then(() => hook(event))
      .catch((error: unknown) => logger.error({ err: error, event }, 'engine hook failed'));
  });
}

/** A synchronous hook: called at once, a throw is logged, never fatal. */
export function callHook<E>(logger: Logger, hook: ((event: E) => void) | undefined, event: E): void {
  if (!hook) return;
  try {
    hook(event);
  } catch (error) {
    logger.error({ err: error, event }, 'engine hook failed');
  }
}

export type { SerializedError };
