// How a run's state reads in lists and on its page.
import { dateTime, dateTimeAndRelative, errorText } from '../format.ts';
import type { RunSummary } from '../types.ts';
import { Link } from '../router.tsx';
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

/** "waiting for run_…": a run queued behind another run of its subject (its concurrency key). */
function WaitingFor({ run }: { run: RunSummary }) {
  if (!run.waiting_for) return null;
  return (
    <span className="muted small block">
      waiting for{' '}
      <Link to={`/runs/${run.waiting_for}`} className="mono">
        {run.waiting_for}
      </Link>{' '}
      (one run per {run.concurrency_key?.split(':')[0] ?? 'subject'} at a time)
    </span>
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
        ? `retrying at ${dateTimeAndRelative(until)}`
        : run.activity === 'waiting' && until
          ? `waiting until ${dateTime(until)}`
          : (run.activity ?? 'running');
    return (
      <span className="step-text">
        {run.current_step} <span className="muted small">({what})</span>
        <WaitingFor run={run} />
      </span>
    );
  }
  if (run.status === 'completed') return <span className="muted">All {run.step_count} steps done</span>;
  if (run.status === 'pending') {
    return (
      <span className="step-text">
        <span className="muted">Not started</span>
        <WaitingFor run={run} />
      </span>
    );
  }
  return <span className="muted">{run.current_step ? `Stopped at ${run.current_step}` : '—'}</span>;
}
