// What the parent tells a child process and what the child answers, over the IPC channel.

// `dbos` enqueues on a DBOS queue (the like-for-like setup); `dbos-direct` starts without one.
export const ENGINES = ['billflow', 'baseline', 'dbos', 'dbos-direct'] as const;
export type EngineName = (typeof ENGINES)[number];

export const DATABASES = ['postgres', 'pglite'] as const;
export type DatabaseName = (typeof DATABASES)[number];

/**
 * - `external`: five steps whose work happens outside the database; each step's output is
 *   checkpointed durably before the next step runs.
 * - `db`: five steps that each write a row in the same transaction as their checkpoint
 *   (Billflow db steps, DBOS transactions, the baseline's one transaction per step).
 * - `billing`: the real thing, Billflow only: `payment_success` runs started through the HTTP
 *   API of `startService` (record, receipt PDF, stats, email over SMTP, team notice).
 */
export const WORKLOADS = ['external', 'db', 'billing'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** Knobs an engine may honour; each engine documents which ones it reads. */
export interface Tuning {
  /** Workflows executing at once (billflow worker concurrency, baseline loops, DBOS queue slots). */
  concurrency: number;
  /** Client connections to PostgreSQL per pool (billflow, baseline, DBOS system and app pools). */
  pool: number;
  /** Idle polling period of the baseline's loops and of the DBOS queue (they have no wake-up). */
  pollIntervalMs: number;
  /** Billflow's fallback poll: it is woken by LISTEN/NOTIFY, so this only bounds missed wake-ups. */
  billflowPollIntervalMs: number;
}

export interface ChildTask {
  workload: WorkloadName;
  engine: EngineName;
  database: DatabaseName;
  /** postgres:// URL of a fresh database for postgres, a fresh folder for pglite. */
  target: string;
  runs: number;
  warmupRuns: number;
  idleRuns: number;
  /** Start calls in flight at once while submitting the burst (like that many API clients). */
  submitters: number;
  /** `billing`: payments are spread over this many customers; 0 = one customer per payment. */
  customers: number;
  tuning: Tuning;
}

export interface Measurement {
  workload: WorkloadName;
  engine: EngineName;
  database: DatabaseName;
  runs: number;
  workflows_per_s: number;
  steps_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  idle_p50_ms: number;
  peak_rss_mb: number;
  /**
   * The whole machine during the burst (engine, database and anything else): how busy its CPUs
   * were, and CPU time per workflow. Absent where /proc/stat is not readable.
   */
  cpu_busy_pct?: number;
  cpu_ms_per_workflow?: number;
  /**
   * CPU time of the measured process alone per workflow (engine and submitters; on PGlite the
   * database too, on PostgreSQL not the server): steadier than the machine's when others load it.
   */
  process_cpu_ms_per_workflow: number;
  /**
   * PostgreSQL: transactions committed in the pair's database over the burst, per workflow
   * (pg_stat_database.xact_commit; reads and queue polling included). Absent on PGlite.
   */
  commits_per_workflow?: number;
  /** Engine-specific notes (versions, mode) for the readable report. */
  notes: string;
}

/** A pair's rounds: the median round's figures, and the spread of throughput over all rounds. */
export interface Summary extends Measurement {
  rounds: number;
  workflows_per_s_min: number;
  workflows_per_s_max: number;
  /** Throughput of every round, in round order. */
  workflows_per_s_rounds: number[];
  /** The highest peak RSS of all rounds. */
  peak_rss_mb_max: number;
}

export type ChildMessage = { ok: true; result: Measurement } | { ok: false; error: string };

export const STEPS_PER_WORKFLOW = 5;
