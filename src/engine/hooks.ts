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
  error: unknown;
}

export interface RunCompletedEvent {
  runId: string;
  type: string;
  outcome: string;
}

/**
 * Where alerts and metrics attach without the engine knowing them. Called after the result is
 * committed, in the process that recorded it; a throwing hook is logged, never fatal.
 */
export interface EngineHooks {
  onStepFailed?(event: StepFailedEvent): void | Promise<void>;
  onRunFailed?(event: RunFailedEvent): void | Promise<void>;
  onRunCompleted?(event: RunCompletedEvent): void | Promise<void>;
}

export function fireHook<E>(logger: Logger, hook: ((event: E) => void | Promise<void>) | undefined, event: E): void {
  if (!hook) return;
  queueMicrotask(() => {
    Promise.resolve()
      .then(() => hook(event))
      .catch((error: unknown) => logger.error({ err: error, event }, 'engine hook failed'));
  });
}

export type { SerializedError };
