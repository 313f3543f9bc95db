import type { Machine } from './machine.ts';
import type { Measurement } from './protocol.ts';

const COLUMNS: [string, (m: Measurement) => string][] = [
  ['engine', (m) => m.engine],
  ['database', (m) => m.database],
  ['workflows/s', (m) => String(m.workflows_per_s)],
  ['steps/s', (m) => String(m.steps_per_s)],
  ['p50 ms', (m) => String(m.p50_ms)],
  ['p95 ms', (m) => String(m.p95_ms)],
  ['p99 ms', (m) => String(m.p99_ms)],
  ['idle p50 ms', (m) => String(m.idle_p50_ms)],
  ['peak RSS MB', (m) => String(m.peak_rss_mb)],
  ['CPU busy %', (m) => (m.cpu_busy_pct === undefined ? '—' : String(m.cpu_busy_pct))],
  ['CPU ms/wf', (m) => (m.cpu_ms_per_workflow === undefined ? '—' : String(m.cpu_ms_per_workflow))],
];

/** A Markdown table, so the output can be pasted into docs/performance.md as it is. */
export function table(results: readonly Measurement[]): string {
  const rows = results.map((m) => COLUMNS.map(([, get]) => get(m)));
  const widths = COLUMNS.map(([head], i) => Math.max(head.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  return [
    line(COLUMNS.map(([head]) => head)),
    `|${widths.map((w, i) => (i < 2 ? `-${'-'.repeat(w)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
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

/** How each engine was configured, and how one engine compares with another on PostgreSQL. */
export function notes(results: readonly Measurement[]): string {
  const lines = results.map((m) => {
    const all = m.workflows_per_s_samples ?? [];
    const spread = all.length > 1 ? `; workflows/s of each round: ${all.join(', ')}` : '';
    return `- ${m.engine} × ${m.database}: ${m.notes}${spread}`;
  });
  const onPostgres = (engine: string) => results.find((m) => m.engine === engine && m.database === 'postgres');
  const billflow = onPostgres('billflow');
  if (billflow) {
    for (const other of ['baseline', 'dbos', 'dbos-direct']) {
      const m = onPostgres(other);
      if (m && m.workflows_per_s > 0) {
        const cpu =
          m.cpu_ms_per_workflow && billflow.cpu_ms_per_workflow
            ? `, ${(m.cpu_ms_per_workflow / billflow.cpu_ms_per_workflow).toFixed(1)}× less CPU per workflow`
            : '';
        lines.push(
          `- billflow / ${other} on PostgreSQL: ${(billflow.workflows_per_s / m.workflows_per_s).toFixed(1)}× the workflows/s${cpu}`,
        );
      }
    }
  }
  return lines.join('\n');
}
