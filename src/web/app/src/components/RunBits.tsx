// How a run's state reads in lists and on its page.
import { errorText, relative } from '../format.ts';
import type { RunSummary } from '../types.ts';
import { StatusBadge } from './ui.tsx';

export function RunStatus({ run }: { run: RunSummary }) {
  if (run.status === 'in_progress' && run.activity && run.activity !== 'running') {
    return (
      <StatusBadge
        status={run.activity === 'retrying' ? 'retrying' : 'waiting'}
        label={run.activity === 'queued' ? 'Queued' : run.activity === 'retrying' ? 'Retrying' : 'Waiting'}
      />
    );
  }
  return (
    <StatusBadge
      status={run.status}
      label={
        run.outcome && run.status === 'completed' && run.outcome !== 'completed'
          ? `Completed (${run.outcome})`
          : undefined
      }
    />
  );
}

/** "Failed at send_customer_email", "retrying at …", "waiting until …". */
export function RunStep({ run }: { run: RunSummary }) {
  if (run.status === 'failed') {
    return (
      <span className="step-text">
        <span className="text-bad">Failed at {run.failed_step ?? run.current_step}</span>
        {run.error ? <span className="muted small block">{errorText(run.error)}</span> : null}
      </span>
    );
  }
  if (run.status === 'in_progress') {
    const until = run.activity_until;
    const what =
      run.activity === 'retrying' && until
        ? `retrying ${relative(until)}`
        : run.activity === 'waiting' && until
          ? `waiting until ${new Date(until).toLocaleString()}`
          : (run.activity ?? 'running');
    return (
      <span className="step-text">
        {run.current_step} <span className="muted small">({what})</span>
      </span>
    );
  }
  if (run.status === 'completed') return <span className="muted">All {run.step_count} steps done</span>;
  if (run.status === 'pending') return <span className="muted">Not started</span>;
  return <span className="muted">{run.current_step ? `Stopped at ${run.current_step}` : '—'}</span>;
}
