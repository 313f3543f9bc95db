import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildTask, Measurement } from './protocol.ts';
import { STEPS_PER_WORKFLOW } from './protocol.ts';
import { percentile, round, sortedCopy } from './stats.ts';
import { cpuBetween, sampleCpu } from './cpu.ts';
import { committedTransactions } from './commits.ts';

/** One engine under test, as the harness drives it. */
export interface EngineAdapter {
  /** Starts one run durably; resolves to its id once the start is committed. */
  start(n: number): Promise<string>;
  stop(): Promise<void>;
  /**
   * Checks, after the measurement, that the work was really done for `runs` completed runs (the
   * db workload's rows, the billing workload's emails); throws if not. Returns a note for the report.
   */
  verify?(runs: number): Promise<string>;
  /** Versions and mode, shown in the report. */
  notes: string;
}

/** Engines call this, in the child process, once a run's completion is durably committed. */
export type OnCompleted = (runId: string) => void;

export type AdapterFactory = (task: ChildTask, onCompleted: OnCompleted) => Promise<EngineAdapter>;

// A phase that makes no progress (no start answered, no run completed) for this long is a hang,
// not a slow engine: on a loaded machine a burst of end-to-end runs can take a minute to finish
// its first run, since all of them advance together.
const STALL_MS = 120_000;

/**
 * Completion times by run id. Completions may be reported before the start call returns the id
 * (the worker can be that quick), so both sides meet here in whatever order they come.
 */
class Completions {
  private readonly at = new Map<string, number>();
  private readonly waiters = new Map<string, (t: number) => void>();
  lastProgress = performance.now();

  readonly record: OnCompleted = (runId) => {
    const t = performance.now();
    this.lastProgress = t;
    this.at.set(runId, t);
    this.waiters.get(runId)?.(t);
    this.waiters.delete(runId);
  };

  when(runId: string): Promise<number> {
    const t = this.at.get(runId);
    if (t !== undefined) return Promise.resolve(t);
    return new Promise((resolve) => this.waiters.set(runId, resolve));
  }

  get count(): number {
    return this.at.size;
  }
}

async function withStallGuard<T>(phase: string, completions: Completions, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    const check = () => {
      if (performance.now() - completions.lastProgress > STALL_MS) {
        reject(new Error(`${phase}: no progress for ${STALL_MS / 1000} s (${completions.count} runs done so far)`));
      } else {
        timer = setTimeout(check, 1_000);
      }
    };
    timer = setTimeout(check, 1_000);
  });
  try {
    return await Promise.race([work, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU time of this process (user + system) per run, in ms. */
function processCpuPerRun(used: NodeJS.CpuUsage, runs: number): number {
  return round((used.user + used.system) / 1000 / runs, 2);
}

/** Submits `count` runs from `submitters` concurrent callers; returns when all have completed. */
async function burst(
  adapter: EngineAdapter,
  completions: Completions,
  first: number,
  count: number,
  submitters: number,
) {
  const submittedAt = new Array<number>(count);
  const finished: Promise<number>[] = new Array<Promise<number>>(count);
  let next = 0;
  const submitter = async () => {
    while (next < count) {
      const k = next++;
      submittedAt[k] = performance.now();
      const id = await adapter.start(first + k);
      completions.lastProgress = performance.now();
      finished[k] = completions.when(id);
    }
  };
  const cpuAtStart = sampleCpu();
  const processCpuAtStart = process.cpuUsage();
  const began = performance.now();
  await Promise.all(Array.from({ length: Math.min(submitters, count) }, submitter));
  const doneAt = await Promise.all(finished);
  const cpu = {
    ...cpuBetween(cpuAtStart, sampleCpu(), count),
    process_cpu_ms_per_workflow: processCpuPerRun(process.cpuUsage(processCpuAtStart), count),
  };
  const latencies = doneAt.map((t, k) => t - (submittedAt[k] as number));
  return { wallMs: Math.max(...doneAt) - began, latencies, cpu };
}

export async function measure(task: ChildTask, factory: AdapterFactory): Promise<Measurement> {
  const completions = new Completions();
  const adapter = await factory(task, completions.record);
  try {
    // Warm-up: JIT, connection pools, plan caches. Not counted.
    await withStallGuard('warm-up', completions, burst(adapter, completions, 0, task.warmupRuns, task.submitters));
    const commitsBefore = await committedTransactions(task);
    completions.lastProgress = performance.now();
    const { wallMs, latencies, cpu } = await withStallGuard(
      'throughput',
      completions,
      burst(adapter, completions, task.warmupRuns, task.runs, task.submitters),
    );
    const commitsAfter = await committedTransactions(task);
    const commits =
      commitsBefore === undefined || commitsAfter === undefined
        ? {}
        : { commits_per_workflow: round((commitsAfter - commitsBefore) / task.runs, 2) };

    // Idle latency: one run at a time, with a pause so nothing of the previous one is in flight.
    await sleep(300);
    const idle: number[] = [];
    for (let i = 0; i < task.idleRuns; i++) {
      completions.lastProgress = performance.now();
      const t0 = performance.now();
      const id = await adapter.start(task.warmupRuns + task.runs + i);
      const t1 = await withStallGuard('idle', completions, completions.when(id));
      idle.push(t1 - t0);
      await sleep(20);
    }

    const total = task.warmupRuns + task.runs + task.idleRuns;
    const verified = adapter.verify ? `; ${await adapter.verify(total)}` : '';
    const sorted = sortedCopy(latencies);
    const perSecond = task.runs / (wallMs / 1000);
    return {
      workload: task.workload,
      engine: task.engine,
      database: task.database,
      runs: task.runs,
      workflows_per_s: round(perSecond, 0),
      steps_per_s: round(perSecond * STEPS_PER_WORKFLOW, 0),
      p50_ms: round(percentile(sorted, 50)),
      p95_ms: round(percentile(sorted, 95)),
      p99_ms: round(percentile(sorted, 99)),
      idle_p50_ms: round(percentile(sortedCopy(idle), 50), 2),
      // maxRSS is in kilobytes: the high-water mark of this child process over the whole run.
      peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 0),
      ...cpu,
      ...commits,
      notes: adapter.notes + verified,
    };
  } finally {
    await adapter.stop();
  }
}
