import { readFileSync } from 'node:fs';

/** The machine's CPU time so far, from /proc/stat (Linux): busy and total, in clock ticks. */
export interface CpuSample {
  busy: number;
  total: number;
}

export function sampleCpu(): CpuSample | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, n) => sum + n, 0);
    // idle + iowait are not work; everything else (user, nice, system, irq, softirq, steal) is.
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return total > 0 ? { busy: total - idle, total } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How busy the whole machine was between two samples (the engine, the database, and anything
 * else running), and the CPU time that cost per workflow. Clock ticks are 10 ms on Linux.
 */
export function cpuBetween(
  start: CpuSample | undefined,
  end: CpuSample | undefined,
  workflows: number,
): { cpu_busy_pct: number; cpu_ms_per_workflow: number } | undefined {
  if (!start || !end || end.total <= start.total) return undefined;
  const busy = end.busy - start.busy;
  return {
    cpu_busy_pct: Math.round((100 * busy) / (end.total - start.total)),
    cpu_ms_per_workflow: Math.round(((busy * 10) / workflows) * 100) / 100,
  };
}
