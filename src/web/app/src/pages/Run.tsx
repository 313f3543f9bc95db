// One run: its pinned steps as a timeline, operator actions with a reason, the audit trail.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { client, ok } from '../api.ts';
import { useCan } from '../auth.tsx';
import { RunStatus, RunStep } from '../components/RunBits.tsx';
import { Dialog, Empty, ErrorNote, Field, JsonView, Loading, PageHeader, StatusBadge } from '../components/ui.tsx';
import { dateTime, duration, errorStack, errorText, humanize, relative } from '../format.ts';
import { useAction, useApi, useWorkflowTypes } from '../hooks.ts';
import { Link } from '../router.tsx';
import type { ActionResult, Attempt, RunDetail, RunStep as Step } from '../types.ts';

/** Each operator action and the API operation that performs it. */
const ACTION_PATHS = {
  restart: '/api/v1/workflows/{id}/restart',
  'skip-step': '/api/v1/workflows/{id}/skip-step',
  cancel: '/api/v1/workflows/{id}/cancel',
  'run-now': '/api/v1/workflows/{id}/run-now',
} as const;
type ActionKind = keyof typeof ACTION_PATHS;

const ACTION_LABELS: Record<ActionKind, string> = {
  restart: 'Restart from failed step',
  'skip-step': 'Skip failed step',
  cancel: 'Cancel run',
  'run-now': 'Run now',
};

/** The UI path for a record link the API gives as `/api/v1/<collection>/<id>`. */
export function recordPath(kind: string, apiPath: string): string {
  const id = apiPath.split('/').pop() ?? '';
  return kind === 'customer' ? `/customers/${id}` : `/records/${kind}/${id}`;
}

function allowed(run: RunDetail): ActionKind[] {
  const out: ActionKind[] = [];
  if (run.status === 'failed') out.push('restart', 'skip-step');
  if (run.status === 'pending' || (run.status === 'in_progress' && run.activity !== 'running')) out.push('run-now');
  if (run.status === 'pending' || run.status === 'in_progress' || run.status === 'failed') out.push('cancel');
  return out;
}

/**
 * What the action will do, in the operator's terms: which steps run again, which do not.
 * `whenSkipped` is what the workflow says skipping each step means (from /workflow-types).
 */
function consequences(run: RunDetail, action: ActionKind, whenSkipped: Record<string, string> = {}): string[] {
  const failedAt = run.steps.findIndex((s) => s.status === 'failed');
  const at = failedAt >= 0 ? failedAt : run.step_index;
  const done = run.steps
    .filter((s, i) => i < at && (s.status === 'completed' || s.status === 'skipped'))
    .map((s) => s.name);
  const after = run.steps.slice(at + 1).map((s) => s.name);
  const current = run.steps[at]?.name ?? run.current_step ?? 'the current step';
  switch (action) {
    case 'restart':
      return [
        `Runs again: ${[current, ...after].join(' → ')}.`,
        done.length ? `Not run again (already done): ${done.join(', ')}.` : 'No step had completed before it.',
      ];
    case 'skip-step':
      return [
        `${current} is marked skipped with your reason and does not run.`,
        whenSkipped[current] ?? 'A later step that needs its result stops the run with an error.',
        after.length ? `Then the run goes on with: ${after.join(' → ')}.` : 'It was the last step: the run completes.',
      ];
    case 'cancel':
      return [
        'The run stops here; no further step runs.',
        done.length ? `What completed stays done (nothing is undone): ${done.join(', ')}.` : 'No step had completed.',
      ];
    case 'run-now':
      return [
        run.activity_until
          ? `${current} runs now instead of ${relative(run.activity_until)} (${dateTime(run.activity_until)}).`
          : `${current} runs now.`,
      ];
  }
}

function ActionDialog({
  run,
  action,
  onClose,
  onDone,
}: {
  run: RunDetail;
  action: ActionKind;
  onClose: () => void;
  onDone: () => void;
}) {
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<ActionResult>();
  const types = useWorkflowTypes();
  const act = useAction(() =>
    ok(client.POST(ACTION_PATHS[action], { params: { path: { id: run.id } }, body: { reason } })),
  );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run();
    if (r) {
      setResult(r);
      onDone();
    }
  };
  const label = ACTION_LABELS[action];
  return (
    <Dialog title={label} open onClose={onClose}>
      {result ? (
        <div className="stack">
          <div className="note note-ok" role="status">
            Done: the run went from <strong>{humanize(result.previous_status)}</strong> to{' '}
            <strong>{humanize(result.status)}</strong>.
          </div>
          <div className="dialog-actions">
            <button type="button" className="primary" autoFocus onClick={onClose}>
              Close
            </button>
          </div>
        </div>
      ) : (
        <form className="stack" onSubmit={(e) => void submit(e)}>
          <div className="note">
            <strong>What will happen</strong>
            <ul>
              {consequences(run, action, types.find(run.type)?.when_skipped).map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          </div>
          <ErrorNote error={act.error} />
          <Field
            label="Reason"
            hint="Recorded in the audit log with your name."
            error={act.error?.fieldError('reason')}
          >
            {(id, d) => (
              <textarea
                id={id}
                aria-describedby={d}
                required
                rows={3}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
              />
            )}
          </Field>
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>
              Back
            </button>
            <button
              type="submit"
              className={action === 'cancel' ? 'danger' : 'primary'}
              disabled={act.busy || !reason.trim()}
            >
              {act.busy ? 'Working…' : label}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function AttemptRow({ attempt }: { attempt: Attempt }) {
  const error = attempt.error;
  const stack = errorStack(error);
  return (
    <tr>
      <td>#{attempt.attempt}</td>
      <td>
        <StatusBadge
          status={
            attempt.outcome === 'finished'
              ? 'completed'
              : attempt.outcome === 'interrupted'
                ? 'failed'
                : attempt.outcome
          }
          label={humanize(attempt.outcome)}
        />
      </td>
      <td>{dateTime(attempt.started_at)}</td>
      <td>{dateTime(attempt.ended_at)}</td>
      <td>
        {duration(
          attempt.duration_ms ??
            (attempt.started_at && attempt.ended_at
              ? new Date(attempt.ended_at).getTime() - new Date(attempt.started_at).getTime()
              : null),
        )}
      </td>
      <td>
        {error ? (
          <div className="attempt-error">
            <span className="text-bad">{errorText(error)}</span>
            {stack ? (
              <details>
                <summary>Stack trace</summary>
                <pre className="stack-trace">{stack}</pre>
              </details>
            ) : null}
          </div>
        ) : attempt.until ? (
          <span className="muted">until {dateTime(attempt.until)}</span>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}

function StepItem({ step, run }: { step: Step; run: RunDetail }) {
  const isCurrent = run.status === 'in_progress' && step.index === run.step_index;
  const status =
    isCurrent && run.activity === 'retrying'
      ? 'retrying'
      : isCurrent && run.activity === 'waiting'
        ? 'waiting'
        : step.status;
  return (
    <li
      className={`timeline-step step-${status}`}
      aria-label={`Step ${step.index + 1}: ${step.name}, ${humanize(status)}`}
    >
      <span className="timeline-dot" aria-hidden="true" />
      <div className="timeline-body">
        <div className="step-head">
          <h3 className="mono">{step.name}</h3>
          <StatusBadge status={status} />
          <span className="muted small">
            {step.attempts.length} {step.attempts.length === 1 ? 'attempt' : 'attempts'}
          </span>
          {isCurrent && run.activity_until && (run.activity === 'retrying' || run.activity === 'waiting') ? (
            <span className="muted small">
              {run.activity === 'retrying' ? 'retrying at' : 'waiting until'} {dateTime(run.activity_until)}
            </span>
          ) : null}
        </div>
        {step.note ? <p className="small">Note: {step.note}</p> : null}
        {step.error && step.status === 'failed' ? <p className="text-bad">{errorText(step.error)}</p> : null}
        {step.attempts.length > 0 ? (
          <div className="table-wrap">
            <table className="table compact" aria-label={`Attempts of ${step.name}`}>
              <thead>
                <tr>
                  <th scope="col">Attempt</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Started</th>
                  <th scope="col">Ended</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Error / wait</th>
                </tr>
              </thead>
              <tbody>
                {step.attempts.map((a, i) => (
                  <AttemptRow key={i} attempt={a} />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <dl className="kv small">
          <dt>Idempotency key</dt>
          <dd className="mono">{step.idempotency_key}</dd>
        </dl>
        {step.output !== undefined && step.output !== null ? (
          <details>
            <summary>Output</summary>
            <JsonView value={step.output} label={`Output of ${step.name}`} />
          </details>
        ) : null}
      </div>
    </li>
  );
}

export function RunPage({ id }: { id: string }) {
  const can = useCan();
  const { label } = useWorkflowTypes();
  const run = useApi(`run:${id}`, () => ok(client.GET('/api/v1/workflows/{id}', { params: { path: { id } } })), 3000);
  const [action, setAction] = useState<ActionKind | null>(null);
  if (run.loading && !run.data) return <Loading />;
  if (!run.data) return <ErrorNote error={run.error} />;
  const r = run.data;
  const typeLabel = label(r.type);
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to={`/workflows/${r.type}`}>{typeLabel}</Link> / <span className="mono">{r.id}</span>
      </nav>
      <PageHeader
        title={
          <>
            {typeLabel} <RunStatus run={r} />
          </>
        }
      >
        {can('account_manager')
          ? allowed(r).map((a) => (
              <button
                key={a}
                type="button"
                className={a === 'restart' ? 'primary' : a === 'cancel' ? 'danger-outline' : ''}
                onClick={() => setAction(a)}
              >
                {ACTION_LABELS[a]}
              </button>
            ))
          : null}
      </PageHeader>
      <ErrorNote error={run.error} />
      <section className="card run-summary" aria-label="Run summary">
        <div className="run-state">
          <RunStep run={r} />
        </div>
        <dl className="kv grid">
          <dt>Run</dt>
          <dd className="mono">{r.id}</dd>
          <dt>Created</dt>
          <dd>{dateTime(r.created_at)}</dd>
          <dt>Updated</dt>
          <dd>{dateTime(r.updated_at)}</dd>
          <dt>Finished</dt>
          <dd>{dateTime(r.finished_at)}</dd>
          <dt>Progress</dt>
          <dd>
            step {Math.min(r.step_index + 1, r.step_count)} of {r.step_count}
          </dd>
          <dt>Idempotency key</dt>
          <dd className="mono">{r.idempotency_key ?? '—'}</dd>
          <dt>Records</dt>
          <dd>
            {Object.entries(r.links).length === 0 ? '—' : null}
            {Object.entries(r.links).map(([kind, path]) => (
              <Link key={kind} to={recordPath(kind, path)} className="chip">
                {humanize(kind)} {path.split('/').pop()}
              </Link>
            ))}
          </dd>
        </dl>
      </section>

      <section aria-label="Steps">
        <h2>Steps</h2>
        <ol className="timeline">
          {r.steps.map((s) => (
            <StepItem key={s.index} step={s} run={r} />
          ))}
        </ol>
      </section>

      <section aria-label="Audit trail" className="card">
        <h2>Audit trail</h2>
        {r.events.length === 0 && r.audit.length === 0 ? <Empty>No operator action on this run yet.</Empty> : null}
        {r.audit.length > 0 ? (
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {r.audit.map((a) => (
                <tr key={a.id}>
                  <td>{dateTime(a.at)}</td>
                  <td className="mono small">{a.actor}</td>
                  <td>{a.action}</td>
                  <td>{a.reason ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : r.events.length > 0 ? (
          <ul className="plain">
            {r.events.map((e) => (
              <li key={e.id}>
                {dateTime(e.created_at)} · {e.actor} · {e.action} {e.reason ? `— ${e.reason}` : ''}
              </li>
            ))}
          </ul>
        ) : null}
      </section>

      <section className="card" aria-label="Input">
        <details>
          <summary>Run input</summary>
          <JsonView value={r.input} label="Run input" />
        </details>
      </section>

      {action ? (
        <ActionDialog run={r} action={action} onClose={() => setAction(null)} onDone={() => void run.reload()} />
      ) : null}
    </>
  );
}
