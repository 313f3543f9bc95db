// What the parent tells a child process and what the child answers, over the IPC channel.

// `dbos` enqueues on a DBOS queue (the like-for-like setup); `dbos-direct` starts without one.
export const ENGINES = ['billflow', 'baseline', 'dbos', 'dbos-direct'] as const;
export type EngineName = (typeof ENGINES)[number];

export const DATABASES = ['postgres', 'pglite'] as const;
export type DatabaseName = (typeof DATABASES)[number];

/** Knobs an engine may honour; each engine documents which ones it reads. */
export interface Tuning {
  /** Workflows executing at once (billflow worker concurrency, baseline loops, DBOS queue slots). */
  concurrency: number;
  /** Client connections to PostgreSQL (billflow pool, DBOS system pool). */
  pool: number;
  /** Idle polling period of the baseline's loops and of the DBOS queue (they have no wake-up). */
  pollIntervalMs: number;
  /** Billflow's fallback poll: it is woken by LISTEN/NOTIFY, so this only bounds missed wake-ups. */
  billflowPollIntervalMs: number;
  /** Billflow: step results per statement / statements in flight. */
  maxBatch: number;
  maxInFlight: number;
}

export interface ChildTask {
  engine: EngineName;
  database: DatabaseName;
  /** postgres:// URL of a fresh database for postgres, a fresh empty folder for pglite. */
  target: string;
  runs: number;
  warmupRuns: number;
  idleRuns: number;
  /** Start calls in flight at once while submitting the burst (like that many API clients). */
  submitters: number;
  tuning: Tuning;
}

export interface Measurement {
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
  /** Engine-specific notes (versions, mode) for the readable report. */
  notes: string;
  /** With --repeat: the throughput of every sample; the other figures are the median sample's. */
  workflows_per_s_samples?: number[];
}

export type ChildMessage = { ok: true; result: Measurement } | { ok: false; error: string };

export const STEPS_PER_WORKFLOW = 5;
