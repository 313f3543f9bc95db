// Shared machinery of the multi-process fault tests: worker processes, polling with deadlines,
// and the invariants every fault test checks at its end.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../src/db/types.ts';
import { createRegistry, startWorkflow } from '../../src/engine/index.ts';
import { TEST_DATABASES, freshDatabase } from '../helpers/databases.ts';
import { DB_STEPS, FAULT_SCHEMA, faultWorkflows, unusedProbe } from './fixtures/workflows.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));

/**
 * A test that needs a PostgreSQL server. Without one it is skipped with a visible reason locally;
 * in CI it fails (the database helper already throws there when the server is unreachable, this
 * also covers a CI that deselected PostgreSQL).
 */
export function postgresTest(name: string, fn: () => Promise<void>, options: { timeoutMs?: number } = {}): void {
  if (!TEST_DATABASES.includes('postgres')) {
    const reason = 'needs PostgreSQL (worker processes share one server); none selected or reachable';
    if (process.env.CI === 'true') {
      test(name, () => assert.fail(`${reason}, and CI must run the fault tests`));
      return;
    }
    console.warn(`# SKIP fault test "${name}": ${reason}`);
    test(name, { skip: reason }, () => {});
    return;
  }
  test(name, { timeout: options.timeoutMs ?? 45_000 }, fn);
}

export interface FaultDatabase {
  db: Db;
  /** For worker processes: the same schema. */
  url: string;
}

export async function faultDatabase(): Promise<FaultDatabase> {
  const { db, url } = await freshDatabase('postgres');
  assert.ok(url, 'a PostgreSQL test database has a URL');
  await db.exec(FAULT_SCHEMA);
  return { db, url };
}

/** The same definitions as the workers; the test process uses them only to start runs. */
export const testRegistry = createRegistry(
  faultWorkflows(unusedProbe, { db: [0, 0], external: [0, 0] }, { worker: 'test', pid: process.pid }),
);

export async function startRuns(db: Db, type: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, () =>
      startWorkflow(db, testRegistry, { type, input: {} }),
    );
    ids.push(...(await Promise.all(batch)).map((r) => r.runId));
  }
  return ids;
}

/** One JSON line a worker printed (engine log entries and fixture events). */
export interface LogLine {
  level?: string;
  msg?: string;
  event?: string;
  pid?: number;
  runId?: string;
  [field: string]: unknown;
}

export interface WorkerSpec {
  leaseMs?: number;
  concurrency?: number;
  pollMs?: number;
  /** Step body durations, "min-max" in ms. */
  dbMs?: string;
  extMs?: string;
}

/** A worker process: its log lines as they come, and its end. */
export class WorkerProcess {
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.notify());
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ level: 'stdout', msg: line });
      }
      this.notify();
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Neither exited nor killed (a stopped process counts as alive). */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves with the first line (already printed or to come) matching, or fails at the deadline. */
  waitFor(what: string, match: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(match);
        if (found) return done(() => resolve(found));
        if (!this.alive) done(() => reject(new Error(`${this.name} exited while waiting for ${what}\n${this.tail()}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms\n${this.tail()}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Lines at warn level or worse, for assertions and failure reports. */
  problems(): LogLine[] {
    return this.lines.filter((l) => l.level === 'warn' || l.level === 'error' || l.level === 'fatal');
  }

  tail(n = 25): string {
    const lines = this.lines.slice(-n).map((l) => JSON.stringify(l));
    return [
      `--- ${this.name} (pid ${this.pid}) last lines:`,
      ...lines,
      this.stderr ? `stderr: ${this.stderr.slice(-2000)}` : '',
    ].join('\n');
  }

  /** SIGTERM (graceful stop), then SIGKILL if it does not exit in time. */
  async stop(timeoutMs = 6000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }
}

const everyChild = new Set<WorkerProcess>();

// Whatever happens in a test, no worker process outlives the file.
after(async () => {
  const alive = [...everyChild].filter((w) => w.alive);
  for (const w of alive) w.child.kill('SIGKILL');
  await Promise.all(alive.map((w) => w.exited));
});

/** Starts a worker process. Its connections carry its `name` as application_name. */
function startWorker(url: string, label: string, spec: WorkerSpec = {}): WorkerProcess {
  const name = `fault_${label}_${randomBytes(3).toString('hex')}`;
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: url,
      WORKER_NAME: name,
      LEASE_MS: String(spec.leaseMs ?? 1500),
      CONCURRENCY: String(spec.concurrency ?? 4),
      POLL_MS: String(spec.pollMs ?? 200),
      FAULT_DB_MS: spec.dbMs ?? '0',
      FAULT_EXT_MS: spec.extMs ?? '0',
    },
  });
  const worker = new WorkerProcess(name, child);
  everyChild.add(worker);
  return worker;
}

export interface WorkerPool {
  /** Starts a worker process (resolves once it runs); it is stopped when the body ends. */
  spawn(label: string, spec?: WorkerSpec): Promise<WorkerProcess>;
  readonly workers: WorkerProcess[];
}

/**
 * Runs a test body with worker processes: on failure prints their last log lines (the only
 * window into another process), and always stops them.
 */
export async function withWorkers(url: string, body: (pool: WorkerPool) => Promise<void>): Promise<void> {
  const workers: WorkerProcess[] = [];
  const spawnOne = async (label: string, spec?: WorkerSpec) => {
    const worker = startWorker(url, label, spec);
    workers.push(worker);
    await worker.waitFor('ready', (l) => l.event === 'ready', 20_000);
    return worker;
  };
  try {
    await body({ spawn: spawnOne, workers });
  } catch (error) {
    for (const w of workers) console.error(w.tail());
    throw error;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** Polls until `probe` returns a value (not undefined/false) or fails with what it waited for. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const detail = options.describe ? `: ${await options.describe()}` : '';
      throw new Error(`timed out waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

async function statusCounts(db: Db): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM workflow_runs GROUP BY status',
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Workers that outlived another's kill -9: still running, and nothing logged but dropped connections. */
export function assertSurvived(survivors: WorkerProcess[]): void {
  for (const w of survivors) {
    assert.ok(w.alive, `${w.name} still runs`);
    assert.deepEqual(
      w.problems().filter((l) => l.level !== 'warn' || l.msg !== 'database connection error'),
      [],
      `${w.name} logged no problem`,
    );
  }
}

/**
 * kill -9 of a worker, then waits for the server to drop its sessions (rolling back any open
 * transaction): nothing of it can commit afterwards. Returns the database time from then on.
 */
export async function killAndSettle(db: Db, victim: WorkerProcess): Promise<Date | undefined> {
  victim.child.kill('SIGKILL');
  assert.deepEqual(await victim.exited, { code: null, signal: 'SIGKILL' });
  await until(
    "the victim's sessions to disappear",
    async () => {
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name IN ($1, $2)',
        [victim.name, `${victim.name}_probe`],
      );
      return rows[0]?.n === 0;
    },
    { timeoutMs: 5000, intervalMs: 50 },
  );
  return (await db.query<{ t: Date }>('SELECT clock_timestamp() AS t')).rows[0]?.t;
}

/**
 * Waits until every run completed. Fails at once on what would make that never happen: a failed
 * or cancelled run, or the death of a worker that is meant to stay up (`alive`).
 */
export async function waitAllCompleted(
  db: Db,
  expected: number,
  options: { timeoutMs?: number; alive?: WorkerProcess[] } = {},
): Promise<void> {
  await until(
    `${expected} completed runs`,
    async () => {
      const dead = (options.alive ?? []).find((w) => !w.alive);
      if (dead) assert.fail(`worker ${dead.name} died while runs were pending\n${dead.tail()}`);
      const counts = await statusCounts(db);
      if (counts.failed || counts.cancelled) {
        const { rows } = await db.query(
          `SELECT id, status, failed_step, error FROM workflow_runs WHERE status IN ('failed', 'cancelled') LIMIT 3`,
        );
        assert.fail(`runs ended other than completed: ${JSON.stringify(counts)} e.g. ${JSON.stringify(rows)}`);
      }
      return (counts.completed ?? 0) === expected;
    },
    {
      timeoutMs: options.timeoutMs ?? 25_000,
      intervalMs: 200,
      describe: async () => JSON.stringify(await statusCounts(db)),
    },
  );
}

export interface InvariantOptions {
  expectedRuns: number;
  /**
   * Step executions cut off by a kill never record their end: treat them as ended at this
   * database time when checking that executions of a run never overlap. Without it, an
   * unfinished execution counts as still running.
   */
  killedAt?: Date;
  /** Skip the no-overlap check (a paused worker's step legitimately ran on past its lease). */
  allowOverlap?: boolean;
}

/**
 * What must hold after any fault: no run lost or stuck, every step completed once in the
 * engine's records, each db step's side effect committed exactly once and belonging to the
 * execution whose output was recorded, counters equal to a recount, and no two executions of
 * one run's steps at the same time.
 */
export async function checkInvariants(db: Db, options: InvariantOptions): Promise<void> {
  const counts = await statusCounts(db);
  assert.deepEqual(counts, { completed: options.expectedRuns }, 'every run completed');

  const { rows: leftovers } = await db.query(
    `SELECT id, lease_owner, step_index, cardinality(steps) AS n FROM workflow_runs
     WHERE lease_owner IS NOT NULL OR step_index <> cardinality(steps) OR outcome IS DISTINCT FROM 'completed'`,
  );
  assert.deepEqual(leftovers, [], 'completed runs hold no lease and stand past their last step');

  const { rows: steps } = await db.query<{
    run_id: string;
    type: string;
    name: string;
    status: string;
    attempt_id: string | null;
  }>(
    `SELECT r.id AS run_id, r.type, s.name, s.status, s.output->>'attemptId' AS attempt_id
     FROM workflow_runs r JOIN workflow_steps s ON s.run_id = r.id`,
  );
  const { rows: stepTotal } = await db.query<{ n: number }>(
    'SELECT coalesce(sum(cardinality(steps)), 0)::int AS n FROM workflow_runs',
  );
  assert.equal(steps.length, stepTotal[0]?.n, 'every step of every run has a record');
  assert.deepEqual(
    steps.filter((s) => s.status !== 'completed'),
    [],
    'every step completed',
  );

  const { rows: effects } = await db.query<{ run_id: string; step: string; attempt_ids: string[] }>(
    `SELECT run_id, step, array_agg(attempt_id::text) AS attempt_ids FROM fault_effects GROUP BY run_id, step`,
  );
  const effectsOf = new Map(effects.map((e) => [`${e.run_id}:${e.step}`, e.attempt_ids]));
  const dbSteps = steps.filter((s) => DB_STEPS[s.type]?.includes(s.name));
  const wrong = dbSteps
    .map((s) => ({
      key: `${s.run_id}:${s.name}`,
      recorded: s.attempt_id,
      effects: effectsOf.get(`${s.run_id}:${s.name}`) ?? [],
    }))
    .filter((e) => e.effects.length !== 1 || e.effects[0] !== e.recorded);
  assert.deepEqual(
    wrong.slice(0, 5),
    [],
    `each db step's effect committed exactly once, by the recorded execution (${wrong.length} wrong)`,
  );
  assert.equal(effects.length, dbSteps.length, 'no side effects of steps that are not recorded');

  const { rows: stats } = await db.query<{ step: string; n: number }>('SELECT step, n FROM fault_stats ORDER BY step');
  const chainRuns = new Set(steps.filter((s) => DB_STEPS[s.type]?.includes('debit')).map((s) => s.run_id)).size;
  assert.deepEqual(
    stats.map((s) => [s.step, s.n]),
    [
      ['credit', chainRuns],
      ['debit', chainRuns],
    ],
    'stats counters equal a recount of the runs',
  );

  if (!options.allowOverlap) {
    const overlaps = await overlappingExecutions(db, options.killedAt);
    assert.deepEqual(
      overlaps.slice(0, 5),
      [],
      `no two step executions of one run at the same time (${overlaps.length} overlaps)`,
    );
  }
}

export interface Overlap {
  run_id: string;
  first: string;
  second: string;
}

/** Pairs of executions of the same run whose [start, end) intervals (database clock) intersect. */
export async function overlappingExecutions(db: Db, openEndsAt?: Date): Promise<Overlap[]> {
  const { rows } = await db.query<Overlap>(
    `SELECT a.run_id, a.step || '#' || a.id || ' by ' || a.worker AS first, b.step || '#' || b.id || ' by ' || b.worker AS second
     FROM fault_attempts a JOIN fault_attempts b ON b.run_id = a.run_id AND b.id > a.id
     WHERE tstzrange(a.started_at, coalesce(a.ended_at, $1::timestamptz, 'infinity'))
        && tstzrange(b.started_at, coalesce(b.ended_at, $1::timestamptz, 'infinity'))`,
    [openEndsAt ?? null],
  );
  return rows;
}

/** Executions per run and step, from the probe (every execution, committed or not). */
export async function executionCounts(db: Db): Promise<Map<string, number>> {
  const { rows } = await db.query<{ key: string; n: number }>(
    `SELECT run_id || ':' || step AS key, count(*)::int AS n FROM fault_attempts GROUP BY run_id, step`,
  );
  return new Map(rows.map((r) => [r.key, r.n]));
}

/** The attempt-history outcomes the engine recorded for one step. */
export async function attemptOutcomes(db: Db, runId: string, step: string): Promise<string[]> {
  const { rows } = await db.query<{ attempts: { outcome: string }[] }>(
    'SELECT attempts FROM workflow_steps WHERE run_id = $1 AND name = $2',
    [runId, step],
  );
  return (rows[0]?.attempts ?? []).map((a) => a.outcome);
}
