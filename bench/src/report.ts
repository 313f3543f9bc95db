import type { Machine } from './machine.ts';
import type { DatabaseName, Measurement, Summary, WorkloadName } from './protocol.ts';
import { median, round } from './stats.ts';

/** A pair's key, the same in every round. */
export function pairKey(m: Pick<Measurement, 'workload' | 'engine' | 'database'>): string {
  return `${m.workload}×${m.engine}×${m.database}`;
}

/** The round with the median throughput, with the lowest and highest throughput of all rounds. */
export function summarize(samples: readonly Measurement[]): Summary {
  const throughput = samples.map((m) => m.workflows_per_s);
  const sorted = [...samples].sort((a, b) => a.workflows_per_s - b.workflows_per_s);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)] as Measurement;
  return {
    ...middle,
    rounds: samples.length,
    workflows_per_s_min: Math.min(...throughput),
    workflows_per_s_max: Math.max(...throughput),
    workflows_per_s_rounds: throughput,
    peak_rss_mb_max: Math.max(...samples.map((m) => m.peak_rss_mb)),
  };
}

const COLUMNS: [string, (m: Summary) => string][] = [
  ['workload', (m) => m.workload],
  ['engine', (m) => m.engine],
  ['database', (m) => m.database],
  ['workflows/s', (m) => String(m.workflows_per_s)],
  ['min', (m) => String(m.workflows_per_s_min)],
  ['max', (m) => String(m.workflows_per_s_max)],
  ['p50 ms', (m) => String(m.p50_ms)],
  ['p95 ms', (m) => String(m.p95_ms)],
  ['p99 ms', (m) => String(m.p99_ms)],
  ['idle p50 ms', (m) => String(m.idle_p50_ms)],
  ['peak RSS MB', (m) => String(m.peak_rss_mb)],
  ['CPU busy %', (m) => (m.cpu_busy_pct === undefined ? '—' : String(m.cpu_busy_pct))],
  ['CPU ms/wf', (m) => (m.cpu_ms_per_workflow === undefined ? '—' : String(m.cpu_ms_per_workflow))],
  ['proc CPU ms/wf', (m) => String(m.process_cpu_ms_per_workflow)],
  ['commits/wf', (m) => (m.commits_per_workflow === undefined ? '—' : String(m.commits_per_workflow))],
];
const TEXT_COLUMNS = 3;

/** A Markdown table, so the output can be pasted into docs/performance.md as it is. */
export function table(results: readonly Summary[]): string {
  const rows = results.map((m) => COLUMNS.map(([, get]) => get(m)));
  const widths = COLUMNS.map(([head], i) => Math.max(head.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < TEXT_COLUMNS ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  return [
    line(COLUMNS.map(([head]) => head)),
    `|${widths.map((w, i) => (i < TEXT_COLUMNS ? `-${'-'.repeat(w)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

export function machineLine(m: Machine): string {
  return (
    `${m.nproc} × ${m.cpu_model}, ${m.memory_gb} GB RAM, PostgreSQL ${m.postgres_version}, ` +
    `Node ${m.node_version}, PGlite ${m.pglite_version}, @dbos-inc/dbos-sdk ${m.dbos_sdk_version}, ${m.date}, ` +
    `load average ${m.load_avg_1m_start} at start` +
    (m.load_avg_1m_end === undefined ? '' : `, ${m.load_avg_1m_end} at end`)
  );
}

/** A comparison, taken within each round (both sides measured in the same round). */
export interface Ratio {
  label: string;
  median: number;
  min: number;
  max: number;
  rounds: number[];
  /** The issue's target: at least (`atLeast`) or at most (`atMost`) this, in every round. */
  target?: { atLeast?: number; atMost?: number; metRounds: number };
}

type Pick2 = (round: ReadonlyMap<string, Measurement>) => [Measurement | undefined, Measurement | undefined];

const DB_NAME: Record<DatabaseName, string> = { postgres: 'PostgreSQL', pglite: 'PGlite' };

/** Ratios of the figures of two pairs, one per round; undefined when a pair was not measured. */
function ratio(
  label: string,
  rounds: readonly ReadonlyMap<string, Measurement>[],
  pick: Pick2,
  value: (m: Measurement) => number | undefined,
  target?: { atLeast?: number; atMost?: number },
): Ratio | undefined {
  const values: number[] = [];
  for (const r of rounds) {
    const [a, b] = pick(r);
    const x = a && value(a);
    const y = b && value(b);
    if (x === undefined || y === undefined || !(y > 0)) return undefined;
    values.push(round(x / y, 2));
  }
  if (values.length === 0) return undefined;
  const result: Ratio = {
    label,
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    rounds: values,
  };
  if (target) {
    const met = values.filter(
      (v) =>
        (target.atLeast === undefined || v >= target.atLeast) && (target.atMost === undefined || v <= target.atMost),
    ).length;
    result.target = { ...target, metRounds: met };
  }
  return result;
}

const of = (workload: WorkloadName, engine: string, database: DatabaseName) => (r: ReadonlyMap<string, Measurement>) =>
  r.get(`${workload}×${engine}×${database}`);

/**
 * Billflow against the baseline and DBOS per workload, the end-to-end billing figure against the
 * external-step engine figure, and the issues' targets. Each ratio is computed within a round.
 */
export function ratios(rounds: readonly ReadonlyMap<string, Measurement>[]): Ratio[] {
  const wfs = (m: Measurement) => m.workflows_per_s;
  const cpu = (m: Measurement) => m.cpu_ms_per_workflow;
  const idle = (m: Measurement) => m.idle_p50_ms;
  const out: (Ratio | undefined)[] = [];
  const targets: Record<WorkloadName, { baseline?: number; dbos?: number }> = {
    external: { baseline: 4, dbos: 5 },
    db: { baseline: 3 },
    billing: {},
  };
  for (const workload of ['external', 'db'] as const) {
    for (const database of ['postgres', 'pglite'] as const) {
      const bf = of(workload, 'billflow', database);
      const at = database === 'postgres' ? targets[workload] : {};
      out.push(
        ratio(
          `${workload} steps, ${DB_NAME[database]}: billflow / baseline workflows/s`,
          rounds,
          (r) => [bf(r), of(workload, 'baseline', database)(r)],
          wfs,
          at.baseline === undefined ? undefined : { atLeast: at.baseline },
        ),
        ratio(
          `${workload} steps, ${DB_NAME[database]}: baseline / billflow CPU ms per workflow`,
          rounds,
          (r) => [of(workload, 'baseline', database)(r), bf(r)],
          cpu,
        ),
      );
      if (database === 'postgres') {
        for (const dbos of ['dbos', 'dbos-direct']) {
          out.push(
            ratio(
              `${workload} steps, PostgreSQL: billflow / ${dbos} workflows/s`,
              rounds,
              (r) => [bf(r), of(workload, dbos, database)(r)],
              wfs,
              at.dbos === undefined || dbos !== 'dbos' ? undefined : { atLeast: at.dbos },
            ),
            ratio(
              `${workload} steps, PostgreSQL: ${dbos} / billflow CPU ms per workflow`,
              rounds,
              (r) => [of(workload, dbos, database)(r), bf(r)],
              cpu,
            ),
          );
        }
      }
    }
  }
  out.push(
    ratio(
      'external steps, PostgreSQL: billflow / baseline idle p50',
      rounds,
      (r) => [of('external', 'billflow', 'postgres')(r), of('external', 'baseline', 'postgres')(r)],
      idle,
      { atMost: 0.67 },
    ),
    ratio(
      'external steps: billflow on PGlite / baseline on PostgreSQL workflows/s',
      rounds,
      (r) => [of('external', 'billflow', 'pglite')(r), of('external', 'baseline', 'postgres')(r)],
      wfs,
      { atLeast: 0.8 },
    ),
  );
  for (const database of ['postgres', 'pglite'] as const) {
    out.push(
      ratio(
        `billing end to end / billflow external steps, ${DB_NAME[database]}: workflows/s`,
        rounds,
        (r) => [of('billing', 'billflow', database)(r), of('external', 'billflow', database)(r)],
        wfs,
        database === 'postgres' ? { atLeast: 0.4 } : undefined,
      ),
      ratio(
        `billing end to end / billflow external steps, ${DB_NAME[database]}: CPU ms per workflow`,
        rounds,
        (r) => [of('billing', 'billflow', database)(r), of('external', 'billflow', database)(r)],
        cpu,
      ),
    );
  }
  return out.filter((r): r is Ratio => r !== undefined);
}

function times(v: number): string {
  return `${v.toFixed(2)}×`;
}

export function ratioLines(list: readonly Ratio[]): string {
  return list
    .map((r) => {
      const spread = r.rounds.length > 1 ? ` (rounds ${times(r.min)}–${times(r.max)})` : '';
      const t = r.target;
      const goal = t
        ? ` — target ${t.atLeast !== undefined ? `≥ ${times(t.atLeast)}` : `≤ ${times(t.atMost ?? 0)}`}: ` +
          `met in ${t.metRounds} of ${r.rounds.length} round${r.rounds.length === 1 ? '' : 's'}`
        : '';
      return `- ${r.label}: ${times(r.median)}${spread}${goal}`;
    })
    .join('\n');
}

/** Billflow's engine peak RSS against the 150 MB target (the service is measured in issue 20). */
export function rssLine(results: readonly Summary[]): string | undefined {
  const engine = results.filter((m) => m.engine === 'billflow' && m.workload !== 'billing');
  if (engine.length === 0) return undefined;
  const worst = Math.max(...engine.map((m) => m.peak_rss_mb_max));
  const each = engine.map((m) => `${m.workload} steps on ${DB_NAME[m.database]} ${m.peak_rss_mb_max}`).join(', ');
  return `- billflow engine peak RSS, highest round: ${each} MB — target ≤ 150 MB: ${worst <= 150 ? 'met' : 'not met'}`;
}

/** How each pair was configured and its throughput in every round. */
export function notes(results: readonly Summary[]): string {
  return results
    .map(
      (m) => `- ${m.workload} × ${m.engine} × ${m.database}: ${m.notes}; rounds ${m.workflows_per_s_rounds.join(', ')}`,
    )
    .join('\n');
}
