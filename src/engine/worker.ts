import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Db, Queryable } from '../db/types.ts';
import { PermanentError } from '../errors.ts';
import { createBatcher } from './batcher.ts';
import type { Registry, StepDefinition, StepContext, DbStepContext, WorkflowDefinition } from './define.ts';
import type { AttemptOutcome, EngineHooks, Logger, StepScope } from './hooks.ts';
import { callHook, fireHook, silentLogger } from './hooks.ts';
import { advanceOperations } from './bulk.ts';
import { batchChain } from './chain.ts';
import { executeDbBatch } from './db-batch.ts';
import type { ChainedStep, DbJob, DbJobResult } from './db-batch.ts';
import { heldRun, outcomeOfError, outcomeOfValue, runWithTimeout, stepContext } from './execute.ts';
import type { HeldRunState } from './execute.ts';
import { claimRuns } from './sql/claimRuns.ts';
import type { ClaimedRun } from './sql/claimRuns.ts';
import { renewLeases } from './heartbeat.ts';
import { releaseRuns } from './sql/leases.ts';
import { recordOutcomes } from './sql/recordOutcomes.ts';
import { newestPerRun } from './stale-copies.ts';
import type { RecordedOutcome, StepOutcome } from './sql/recordOutcomes.ts';
import { resolveStep } from './steps.ts';
import { tellRunFailed } from './ending.ts';
import { RUNS_CHANNEL } from './channel.ts';

export { RUNS_CHANNEL };

export interface WorkerOptions {
  registry: Registry;
  /** Unique per process; the default names the host and a random suffix. */
  workerId?: string;
  /** Runs executing at once in this process. */
  concurrency?: number;
  /** How long a claim lasts without renewal; a crashed worker's runs are taken over after it. */
  leaseMs?: number;
  /** Fallback polling for due timers and missed notifications. */
  pollIntervalMs?: number;
  /** Step results written per statement at most. */
  maxBatch?: number;
  /** Result-writing statements in flight at once. */
  maxInFlight?: number;
  /** Runs whose db steps execute and commit in one transaction at most (group commit). */
  maxDbBatch?: number;
  /** Db-step transactions in flight at once. */
  dbBatchesInFlight?: number;
  /** Injectable clock for tests; by default every due time uses the database clock. */
  clock?: () => Date;
  hooks?: EngineHooks;
  logger?: Logger;
  /** Bulk-operation items processed per poll tick (throttle). */
  bulkBatchSize?: number;
}

export interface Worker {
  readonly id: string;
  /** Starts listening and polling. */
  start(): Promise<void>;
  /** Stops claiming, lets running steps finish for up to `graceMs`, then gives the rest back. */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Works until nothing is due (tests and one-shot use; no timers needed). */
  drain(): Promise<void>;
  /** Runs executing right now. */
  activeCount(): number;
  /**
   * Takes a place for a run this process is about to start, so that the start inserts it already
   * claimed by this worker: no NOTIFY and no claim round trip before its first step. Undefined
   * when the worker is full, stopping or not started. Every place taken is either adopted or
   * given back.
   */
  takePlace(): { workerId: string; leaseMs: number } | undefined;
  /** Runs a run that was inserted, and committed, under a place taken from this worker. */
  adopt(run: ClaimedRun): void;
  /** Gives back a place that was not used: the start found an existing run, or failed. */
  givePlaceBack(): void;
}

const ATTEMPT_OUTCOMES: Record<StepOutcome['kind'], AttemptOutcome> = {
  done: 'completed',
  wait: 'waiting',
  finish: 'finished',
  retry: 'retrying',
  fail: 'failed',
};

export function createWorker(db: Db, options: WorkerOptions): Worker {
  const id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const registry = options.registry;
  const types = [...registry.keys()];
  const concurrency = options.concurrency ?? 64;
  const leaseMs = options.leaseMs ?? 30_000;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const logger = options.logger ?? silentLogger;
  const hooks = options.hooks ?? {};
  const clock = options.clock;
  const dbNow = () => (clock ? clock() : null);
  const appNow = () => (clock ? clock() : new Date());
  const dbBatchesInFlight = options.dbBatchesInFlight ?? 2;
  // A run goes on in its batch while its steps are db steps (a chain), so its next steps do not
  // wait for another batch to end: batches of at most the runs' fair share keep every one busy.
  const maxDbBatch = options.maxDbBatch ?? Math.min(32, Math.max(1, Math.ceil(concurrency / dbBatchesInFlight)));

  const active = new Map<string, HeldRunState>();
  const loops = new Set<Promise<void>>();
  let stopping = false;
  // Between start() and stop(): listening, polling and keeping timers. drain() works without.
  let live = false;
  let claiming: Promise<void> | undefined;
  let wakeAgain = false;
  let mayHaveMore = true;
  let claimedTotal = 0;
  // Places taken for starts in flight (takePlace): not free for claims until adopted or given back.
  let promised = 0;
  let pollTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  const wakeTimers = new Set<NodeJS.Timeout>();
  let unlisten: (() => Promise<void>) | undefined;

  const batcher = createBatcher<StepOutcome, RecordedOutcome>(
    async (outcomes) => {
      // Every run whose outcome ends its turn here (last step done, retry, wait, failure, early
      // finish) hands its place to a due run claimed by the same statement. Those places are not
      // counted as free by the claim loop until the runs leave `active`, so none is given twice.
      // A stale copy's outcome is left out: recorded by run id, it would pass for the newest's.
      const { newest } = newestPerRun(outcomes, (o) => o);
      const places = stopping ? 0 : newest.filter(endsTurn).length;
      const claim = places > 0 ? { workerId: id, types, limit: places } : undefined;
      const { recorded, claimed } = await recordOutcomes(db, newest, { leaseMs, now: dbNow(), claim });
      launchClaimed(claimed, places);
      const byRun = new Map(recorded.map((r) => [r.id, r]));
      return new Map(newest.map((o) => [o, byRun.get(o.runId)] as [StepOutcome, RecordedOutcome]).filter(([, r]) => r));
    },
    { maxBatch: options.maxBatch ?? 500, maxInFlight: options.maxInFlight ?? 2 },
  );

  const dbBatcher = createBatcher<DbJob, DbJobResult>(
    async (jobs) => {
      const chain = batchChain({
        registry,
        hooks,
        logger,
        appNow,
        stopping: () => stopping,
        onFailed: failureHook,
      });
      let results: Map<DbJob, DbJobResult> | undefined;
      try {
        const batch = await executeDbBatch(db, jobs, {
          leaseMs,
          now: dbNow,
          appNow,
          claimFor(outcomes) {
            const places = stopping ? 0 : outcomes.filter(endsTurn).length;
            return places > 0 ? { workerId: id, types, limit: places } : undefined;
          },
          chain: chain.next,
        });
        results = batch.results;
        launchClaimed(batch.claimed, batch.asked);
        return results;
      } finally {
        chain.end(results);
      }
    },
    { maxBatch: maxDbBatch, maxInFlight: dbBatchesInFlight },
  );

  /** Runs claimed in passing by a statement that recorded `recorded` results. */
  function launchClaimed(claimed: ClaimedRun[], places: number): void {
    if (claimed.length < places) mayHaveMore = false;
    if (stopping) {
      releaseRuns(db, claimed, { workerId: id, now: dbNow(), interrupted: false }).catch(() => {});
    } else {
      for (const row of claimed) launch(row);
    }
  }

  function endsTurn(outcome: StepOutcome): boolean {
    const run = active.get(outcome.runId);
    if (!run) return false;
    return outcome.kind !== 'done' || outcome.stepIndex + 1 >= run.steps.length;
  }

  function wake(): void {
    if (stopping) return;
    if (claiming) {
      wakeAgain = true;
      return;
    }
    claiming = claimLoop().finally(() => {
      claiming = undefined;
      if (wakeAgain) {
        wakeAgain = false;
        wake();
      }
    });
  }

  async function claimLoop(): Promise<void> {
    while (!stopping && mayHaveMore) {
      const room = concurrency - active.size - promised;
      if (room <= 0) return;
      let rows: ClaimedRun[];
      try {
        rows = await claimRuns(db, { workerId: id, types, limit: room, leaseMs, now: dbNow() });
      } catch (error) {
        logger.error({ err: error }, 'claiming runs failed; retrying at the next poll');
        return;
      }
      for (const row of rows) launch(row);
      if (rows.length < room) mayHaveMore = false;
    }
  }

  function launch(row: ClaimedRun): void {
    claimedTotal++;
    const run = heldRun(row, appNow());
    // This worker's own claim took the run again (its lease lapsed mid-step): the older copy
    // stops, and whatever it still returns is refused.
    const stale = active.get(run.id);
    if (stale) {
      stale.lost = true;
      stale.abort.abort(new Error('lease lost: this worker claimed the run again'));
    }
    active.set(run.id, run);
    if (row.previous_owner !== null) {
      fireHook(logger, hooks.onLeaseTakeover, {
        runId: run.id,
        type: run.type,
        step: run.steps[run.stepIndex] as string,
        previousOwner: row.previous_owner,
      });
    }
    const loop: Promise<void> = runLoop(run)
      .catch((error: unknown) => logger.error({ err: error, runId: run.id }, 'run loop crashed'))
      .finally(() => {
        if (active.get(run.id) === run) active.delete(run.id);
        loops.delete(loop);
        if (mayHaveMore) wake();
      });
    loops.add(loop);
  }

  async function runLoop(run: HeldRunState): Promise<void> {
    const definition = registry.get(run.type) as WorkflowDefinition<unknown> | undefined;
    for (;;) {
      const name = run.steps[run.stepIndex] as string;
      const startedAt = appNow();
      const began = performance.now();
      const scope = hooks.stepScope?.({ runId: run.id, type: run.type, step: name, attempt: run.attempt + 1 });
      let outcome: StepOutcome;
      let recorded: RecordedOutcome | undefined;
      let chained: ChainedStep[] = [];
      try {
        ({
          outcome,
          recorded,
          chained = [],
        } = scope
          ? await scope.run(() => attemptStep(run, definition, name, startedAt, scope))
          : await attemptStep(run, definition, name, startedAt, undefined));
      } catch (error) {
        reportAttempt(run, name, began, scope, 'unrecorded', error);
        // The database did not answer: we cannot know whether the result landed. Give the run
        // back so that whoever claims it next reads the truth from the database.
        logger.error({ err: error, runId: run.id, step: name }, 'recording a step result failed; releasing the run');
        releaseLater(run);
        return;
      }
      reportAttempt(run, name, began, scope, recorded ? ATTEMPT_OUTCOMES[outcome.kind] : 'rejected', outcome?.error);
      // Steps that ran on in the same transaction, committed with the first (see db-batch.ts).
      const reportChained = (next: ChainedStep) =>
        reportAttempt(
          run,
          next.outcome.step,
          next.job.began ?? began,
          next.job.scope,
          ATTEMPT_OUTCOMES[next.outcome.kind],
          next.outcome.error,
        );
      if (!recorded || run.lost) {
        logger.warn({ runId: run.id, step: name }, 'step result rejected: the run was taken over or changed meanwhile');
        chained.forEach(reportChained);
        return;
      }
      if (!goOn(run, outcome, recorded)) return;
      for (const next of chained) {
        reportChained(next);
        if (!goOn(run, next.outcome, next.recorded)) return;
      }
      if (stopping) {
        await releaseRuns(db, [run], { workerId: id, now: dbNow(), interrupted: false }).catch(() => {});
        return;
      }
    }
  }

  /** After a recorded step: its hooks, then the run's state for its next step; false when its turn ends. */
  function goOn(run: HeldRunState, outcome: StepOutcome, recorded: RecordedOutcome): boolean {
    afterRecorded(run, outcome, recorded);
    if (!recorded.continues) return false;
    run.outputs = { ...run.outputs, [outcome.step]: outcome.output ?? null };
    run.stepIndex = recorded.step_index;
    run.attempt = 0;
    run.state = undefined;
    run.interrupted = false;
    run.priorAttempts = 0;
    run.leaseDeadline = performance.now() + recorded.lease_left_ms;
    return true;
  }

  async function attemptStep(
    run: HeldRunState,
    definition: WorkflowDefinition<unknown> | undefined,
    name: string,
    startedAt: Date,
    scope: StepScope | undefined,
  ): Promise<{ outcome: StepOutcome; recorded: RecordedOutcome | undefined; chained?: ChainedStep[] }> {
    const step = definition ? await resolveStep(definition, name, db) : undefined;
    if (!step) {
      const error = new PermanentError(
        `step "${name}" of ${run.type} is not defined in this version (the run pinned it at start)`,
      );
      const outcome = outcomeOfError({ run, step: name, startedAt, endedAt: appNow() }, undefined, error);
      return { outcome, recorded: await record(run, definition, outcome) };
    }
    if (step.kind === 'db') return executeDbStep(run, definition, step, startedAt, scope);
    const outcome = await executeExternalStep(run, step, startedAt);
    return { outcome, recorded: await record(run, definition, outcome) };
  }

  /** The context a workflow's `onEnd` gets for a failure of `run` at its current step. */
  function failureEnd(run: HeldRunState, outcome: StepOutcome) {
    const error = outcome.error as { message?: unknown } | undefined;
    return {
      runId: run.id,
      type: run.type,
      input: run.input,
      steps: run.steps,
      stepIndex: run.stepIndex,
      reason: typeof error?.message === 'string' ? error.message : 'failed',
      now: appNow,
    };
  }

  /** What a db step's batch calls once the step's failure of `run` is recorded: the workflow's onEnd. */
  function failureHook(run: HeldRunState, definition: WorkflowDefinition<unknown>) {
    if (!definition.onEnd) return undefined;
    return (tx: Queryable, outcome: StepOutcome) => tellRunFailed(tx, definition, failureEnd(run, outcome), logger);
  }

  /**
   * Records an external step's outcome through the batch; a failure of a run whose workflow
   * settles its failures (`onEnd`) is recorded in a transaction of its own, with the hook.
   */
  async function record(
    run: HeldRunState,
    definition: WorkflowDefinition<unknown> | undefined,
    outcome: StepOutcome,
  ): Promise<RecordedOutcome | undefined> {
    if (outcome.kind !== 'fail' || !definition?.onEnd) return batcher.add(outcome);
    return db.transaction(async (tx) => {
      const { recorded } = await recordOutcomes(tx, [outcome], { leaseMs, now: dbNow() });
      const row = recorded[0];
      if (row) await tellRunFailed(tx, definition, failureEnd(run, outcome), logger);
      return row;
    });
  }

  /** Tells the attempt's scope and onStepAttempt how it ended; nothing when neither is set. */
  function reportAttempt(
    run: HeldRunState,
    step: string,
    began: number,
    scope: StepScope | undefined,
    outcome: AttemptOutcome,
    error: unknown,
  ): void {
    if (!scope && !hooks.onStepAttempt) return;
    const event = {
      runId: run.id,
      type: run.type,
      step,
      attempt: run.attempt + 1,
      outcome,
      durationMs: performance.now() - began,
      error,
    };
    if (scope) callHook(logger, (e: typeof event) => scope.end(e), event);
    callHook(logger, hooks.onStepAttempt, event);
  }

  async function executeExternalStep(run: HeldRunState, step: StepDefinition<never>, startedAt: Date) {
    const ctx = stepContext(run, step, appNow);
    try {
      const value = await runWithTimeout(run, step, () => step.run(ctx as StepContext<never> & DbStepContext<never>));
      return outcomeOfValue({ run, step: step.name, startedAt, endedAt: appNow() }, value);
    } catch (error) {
      return outcomeOfError({ run, step: step.name, startedAt, endedAt: appNow() }, step, error);
    }
  }

  /** A db step joins the next group commit (see db-batch.ts). */
  async function executeDbStep(
    run: HeldRunState,
    definition: WorkflowDefinition<unknown> | undefined,
    step: StepDefinition<never>,
    startedAt: Date,
    scope: StepScope | undefined,
  ) {
    const onFailed = definition ? failureHook(run, definition) : undefined;
    const result = await dbBatcher.add({
      run,
      step,
      startedAt,
      ...(scope ? { scope } : {}),
      ...(onFailed ? { onFailed } : {}),
    });
    return result ?? { outcome: undefined as never, recorded: undefined, chained: [] };
  }

  function afterRecorded(run: HeldRunState, outcome: StepOutcome, recorded: RecordedOutcome): void {
    const base = { runId: run.id, type: run.type, step: outcome.step };
    if (outcome.kind === 'retry' || outcome.kind === 'fail') {
      fireHook(logger, hooks.onStepFailed, {
        ...base,
        attempt: run.attempt + 1,
        error: outcome.error,
        retryAt: outcome.kind === 'retry' ? (recorded.run_at ?? undefined) : undefined,
      });
    }
    if (outcome.kind === 'fail') {
      fireHook(logger, hooks.onRunFailed, { ...base, attempt: run.attempt + 1, error: outcome.error });
    }
    if (recorded.status === 'completed') {
      fireHook(logger, hooks.onRunCompleted, {
        runId: run.id,
        type: run.type,
        outcome: outcome.outcome ?? 'completed',
      });
    }
    if (recorded.run_at) wakeAt(recorded.run_at);
  }

  /** A timer of our own for a retry or wait that falls before the next poll. */
  function wakeAt(at: Date): void {
    const delay = at.getTime() - appNow().getTime();
    if (!live || clock || delay > pollIntervalMs || stopping) return;
    const timer = setTimeout(
      () => {
        wakeTimers.delete(timer);
        mayHaveMore = true;
        wake();
      },
      Math.max(0, delay),
    );
    timer.unref();
    wakeTimers.add(timer);
  }

  function releaseLater(run: HeldRunState, tries = 0): void {
    releaseRuns(db, [run], { workerId: id, now: dbNow(), interrupted: true }).catch(() => {
      // Past the lease the run is free anyway; stop trying then.
      if ((tries + 1) * 1000 < leaseMs) setTimeout(() => releaseLater(run, tries + 1), 1000).unref();
    });
  }

  function poll(): void {
    mayHaveMore = true;
    wake();
    advanceOperations(db, { limit: options.bulkBatchSize ?? 50, now: dbNow() }).catch((error: unknown) =>
      logger.error({ err: error }, 'advancing bulk operations failed'),
    );
  }

  return {
    id,
    activeCount: () => active.size,
    takePlace() {
      if (!live || stopping || active.size + promised >= concurrency) return undefined;
      promised++;
      return { workerId: id, leaseMs };
    },
    adopt(run) {
      promised--;
      if (stopping) {
        releaseRuns(db, [run], { workerId: id, now: dbNow(), interrupted: false }).catch(() => {});
      } else {
        launch(run);
      }
    },
    givePlaceBack() {
      promised--;
      if (mayHaveMore) wake();
    },
    async start() {
      stopping = false;
      live = true;
      try {
        unlisten = await db.listen(RUNS_CHANNEL, (payload) => {
          if (payload === '' || registry.has(payload)) {
            mayHaveMore = true;
            wake();
          }
        });
      } catch (error) {
        logger.warn({ err: error }, 'LISTEN unavailable; relying on polling');
      }
      pollTimer = setInterval(poll, pollIntervalMs);
      heartbeatTimer = setInterval(() => {
        renewLeases(db, active, { workerId: id, leaseMs, now: dbNow(), logger }).catch((error: unknown) =>
          logger.warn({ err: error }, 'heartbeat failed'),
        );
      }, leaseMs / 4);
      poll();
    },
    async stop(stopOptions = {}) {
      stopping = true;
      live = false;
      clearInterval(pollTimer);
      for (const timer of wakeTimers) clearTimeout(timer);
      await unlisten?.().catch(() => {});
      await claiming;
      const all = Promise.all(loops);
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, stopOptions.graceMs ?? 10_000)));
      await Promise.race([all, grace]);
      clearTimeout(timer);
      clearInterval(heartbeatTimer);
      const stuck = [...active.values()];
      for (const run of stuck) run.abort.abort(new Error('worker shutting down'));
      await releaseRuns(db, stuck, { workerId: id, now: dbNow(), interrupted: true }).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not release runs at shutdown; their leases will expire'),
      );
    },
    async drain() {
      for (;;) {
        const before = claimedTotal;
        mayHaveMore = true;
        wake();
        while (claiming || loops.size > 0) {
          await claiming;
          await Promise.all(loops);
        }
        // Runs a bulk operation restarts now are due: claim them before calling it drained.
        const advanced = await advanceOperations(db, { limit: options.bulkBatchSize ?? 50, now: dbNow() });
        if (claimedTotal === before && advanced === 0) return;
      }
    },
  };
}
