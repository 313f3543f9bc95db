// How the command line prints the answers of admin commands: aligned tables and short lines for
// people at a terminal (`--json` prints the answer itself instead).
import type { ReconciliationReport } from '../billing/reconciliation/index.ts';
import type { AdminResult, RunLine } from './admin-commands.ts';

/** Left-aligned columns separated by two spaces; cells are single lines. */
export function table(head: string[], rows: string[][]): string {
  const clean = (cell: string) => cell.replace(/\s+/g, ' ');
  const all = [head, ...rows.map((r) => r.map(clean))];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function when(value: string | null): string {
  return value ? value.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

function errorMessage(error: unknown): string {
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return error === null || error === undefined ? '' : JSON.stringify(error);
}

function runStatus(run: RunLine): string {
  return run.activity ? `${run.status} (${run.activity})` : run.status;
}

export function formatRuns(runs: RunLine[], nextCursor: string | null): string {
  if (runs.length === 0) return 'no runs match';
  const lines = table(
    ['ID', 'TYPE', 'STATUS', 'STEP', 'SUBJECT', 'CREATED'],
    runs.map((r) => [
      r.id,
      r.type,
      runStatus(r),
      r.status === 'failed' ? (r.failed_step ?? '-') : (r.current_step ?? '-'),
      r.subject_ref ?? '-',
      when(r.created_at),
    ]),
  );
  return nextCursor ? `${lines}\n(more runs: narrow the filters or raise --limit)` : lines;
}

interface ShownRun extends RunLine {
  input: unknown;
  steps: { index: number; name: string; status: string; attempts: unknown[]; note: string | null; error: unknown }[];
  events: { action: string; actor: string; reason: string | null; created_at: string | null }[];
}

export function formatRun(run: ShownRun): string {
  const lines = [
    `run       ${run.id}`,
    `type      ${run.type}`,
    `status    ${runStatus(run)}${run.outcome ? `, outcome ${run.outcome}` : ''}`,
    `subject   ${run.subject_ref ?? '-'}`,
    `customer  ${run.owner_ref ?? '-'}`,
    `created   ${when(run.created_at)}`,
    `finished  ${when(run.finished_at)}`,
  ];
  if (run.status === 'failed') lines.push(`failed at ${run.failed_step ?? '?'}: ${errorMessage(run.error)}`);
  lines.push(
    '',
    table(
      ['#', 'STEP', 'STATUS', 'ATTEMPTS', 'NOTE'],
      run.steps.map((s) => [
        String(s.index + 1),
        s.name,
        s.status,
        String(s.attempts.length),
        s.note ?? (s.status === 'failed' ? errorMessage(s.error) : ''),
      ]),
    ),
  );
  if (run.events.length > 0) {
    lines.push(
      '',
      table(
        ['WHEN', 'ACTION', 'BY', 'REASON'],
        run.events.map((e) => [when(e.created_at), e.action, e.actor, e.reason ?? '']),
      ),
    );
  }
  return lines.join('\n');
}

export function formatReconciliation(report: ReconciliationReport, baseUrl?: string): string {
  const link = (url: string | null) => (url && baseUrl && url.startsWith('/') ? `${baseUrl}${url}` : url);
  const lines = [
    report.ok
      ? `nothing lost: every check passed (${report.checked_at})`
      : `${report.finding_count} finding${report.finding_count === 1 ? '' : 's'} (${report.checked_at})`,
  ];
  for (const check of report.checks) {
    const mark = check.ok ? 'ok  ' : 'FAIL';
    lines.push(`${mark}  ${check.title}${check.ok ? '' : ` — ${check.finding_count}`}`);
    if (check.note) lines.push(`      note: ${check.note}`);
    for (const finding of check.findings) {
      lines.push(`      - ${finding.message}`);
      for (const o of finding.objects) {
        const where = link(o.url);
        if (where) lines.push(`          ${o.kind} ${o.id}: ${where}`);
      }
    }
    if (check.findings.length < check.finding_count) {
      lines.push(`      … and ${check.finding_count - check.findings.length} more (--json lists the same)`);
    }
  }
  return lines.join('\n');
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

/** The answer as a person reads it. */
export function formatAdminResult(result: AdminResult, options: { baseUrl?: string } = {}): string {
  switch (result.kind) {
    case 'user':
      return `user ${result.user.email} (${result.user.role}), id ${result.user.id}`;
    case 'api_key':
      return result.key;
    case 'runs':
      return formatRuns(result.runs, result.next_cursor);
    case 'run':
      return formatRun(result.run as ShownRun);
    case 'run_action': {
      const steps = result.detail.steps_to_run;
      const next = Array.isArray(steps) && steps.length > 0 ? `; next: ${steps.join(' → ')}` : '';
      return `${result.action.replace('_', ' ')}: run ${result.run_id} ${result.previous_status} → ${result.status}${next}`;
    }
    case 'bulk_restart': {
      const left =
        result.permanent_excluded > 0
          ? ` (${result.permanent_excluded} with a permanent error left out; --include-permanent takes them too)`
          : '';
      return result.dry_run
        ? `dry run: ${result.matched} failed run${result.matched === 1 ? '' : 's'} would be restarted${left}`
        : `bulk restart ${result.operation_id}: ${result.matched} failed run${result.matched === 1 ? '' : 's'} ` +
            `will be restarted by the workers, a batch at a time${left}`;
    }
    case 'reconciliation':
      return formatReconciliation(result.report, options.baseUrl);
    case 'backup':
      return `backed up the embedded database (schema ${String(result.schema_version).padStart(4, '0')}) to ${result.file}, ${megabytes(result.bytes)}`;
  }
}

/** The answer as a program reads it (`--json`). */
export function adminResultJson(result: AdminResult): unknown {
  switch (result.kind) {
    case 'user':
      return result.sessions_revoked === undefined
        ? result.user
        : { ...result.user, sessions_revoked: result.sessions_revoked };
    case 'api_key':
      return { ...result.apiKey, key: result.key };
    case 'runs':
      return { items: result.runs, next_cursor: result.next_cursor };
    case 'run':
      return result.run;
    case 'reconciliation':
      return result.report;
    default: {
      const { kind: _kind, ...rest } = result;
      return rest;
    }
  }
}
