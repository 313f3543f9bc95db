// The engine's public surface: durable runs and steps; it knows nothing of billing.
export * from './define.ts';
export { dbStep, externalStep } from './steps.ts';
export type { OutputOf, StepOutput } from './steps.ts';
export { startWorkflow } from './start.ts';
export type { StartRequest, StartResult } from './start.ts';
export { createStarter } from './starter.ts';
export type { Starter } from './starter.ts';
export { createWorker, RUNS_CHANNEL } from './worker.ts';
export type { Worker, WorkerOptions } from './worker.ts';
export { restartRun, cancelRun, skipFailedStep, runNow } from './actions.ts';
export { wakeWaitingRuns, type WakeRequest, type WokenRun } from './wake.ts';
export type { ActionResult, OperatorAction } from './actions.ts';
export { bulkRestart, advanceOperations, getOperation } from './bulk.ts';
export type { BulkRestartRequest, BulkRestartResult, FailedRunFilter, OperationStatus } from './bulk.ts';
export {
  getRun,
  listRuns,
  countRuns,
  countMatchingRuns,
  compactRunCounts,
  RUN_STATUSES,
  RUN_SORTS,
} from './history.ts';
export type { RunDetail, RunSummary, RunFilter, RunSort, RunStatus, StepView, Page, RunEvent } from './history.ts';
export { countRunsPerHour, MAX_ACTIVITY_RANGE_MS } from './activity.ts';
export type { ActivityRange, HourlyRunCount } from './activity.ts';
export type {
  AttemptOutcome,
  EngineHooks,
  LeaseTakeoverEvent,
  Logger,
  RunCompletedEvent,
  RunFailedEvent,
  RunStartedEvent,
  StartHooks,
  StepAttemptEvent,
  StepAttemptStart,
  StepFailedEvent,
  StepScope,
} from './hooks.ts';
export { serializeError } from './execute.ts';
