// A run's steps as a timeline: each step's attempts numbered across restarts, with the operator
// actions that started a new round (restart, run now) drawn between them with who, when and why.
import { StatusBadge } from '../../components/ui.tsx';
import { JsonBlock } from '../../components/JsonBlock.tsx';
import { BOUNDARY, ErrorKind } from './Waterfall.tsx';
import { duration, errorStack, errorText, humanize } from '../../format.ts';
import type { Attempt, RunDetail, RunStep as Step } from '../../types.ts';
import { Time } from '../../components/Time.tsx';

type RunEvent = RunDetail['events'][number];
type Row = { attempt: Attempt } | { event: RunEvent };

/** The step's attempts with each operator action on this step placed before the attempts that followed it. */
function withBoundaries(step: Step, events: RunEvent[]): Row[] {
  const mine = events.filter((e) => {
    const d = e.detail ?? {};
    return e.action in BOUNDARY && (d.from_step ?? d.step ?? d.skipped_step) === step.name;
  });
  const rows: Row[] = [];
  let next = 0;
  for (const attempt of step.attempts) {
    const started = attempt.started_at ? new Date(attempt.started_at).getTime() : Infinity;
    while (next < mine.length && new Date(mine[next]?.created_at ?? 0).getTime() <= started) {
      rows.push({ event: mine[next] as RunEvent });
      next++;
    }
    rows.push({ attempt });
  }
  // An action after the last attempt only belongs here once an attempt has been made.
  if (step.attempts.length > 0) for (; next < mine.length; next++) rows.push({ event: mine[next] as RunEvent });
  return rows;
}

function BoundaryRow({ event }: { event: RunEvent }) {
  return (
    <tr className="boundary-row">
      <td colSpan={6}>
        <strong>{BOUNDARY[event.action] ?? humanize(event.action)}</strong> <Time iso={event.created_at} /> by{' '}
        {event.actor_name}
        {event.reason ? <>: “{event.reason}”</> : null}
      </td>
    </tr>
  );
}

function AttemptRow({ attempt }: { attempt: Attempt }) {
  const error = attempt.error;
  const stack = errorStack(error);
  return (
    <tr>
      <td>#{attempt.number}</td>
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
      <td>
        <Time iso={attempt.started_at} />
      </td>
      <td>
        <Time iso={attempt.ended_at} />
      </td>
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
            <ErrorKind error={error} /> <span className="text-bad">{errorText(error)}</span>
            {stack ? (
              <details>
                <summary>Stack trace</summary>
                <pre className="stack-trace">{stack}</pre>
              </details>
            ) : null}
          </div>
        ) : attempt.until ? (
          <span className="muted">
            until <Time iso={attempt.until} />
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}

export function StepItem({ step, run }: { step: Step; run: RunDetail }) {
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
              {run.activity === 'retrying' ? 'retrying at' : 'waiting until'}{' '}
              <Time iso={run.activity_until} withRelative />
            </span>
          ) : null}
        </div>
        {step.note ? <p className="small">Note: {step.note}</p> : null}
        {step.error && step.status === 'failed' ? (
          <p>
            <ErrorKind error={step.error} /> <span className="text-bad">{errorText(step.error)}</span>
          </p>
        ) : null}
        {step.attempts.length > 0 ? (
          <div className="table-wrap" tabIndex={0}>
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
                {withBoundaries(step, run.events).map((row, i) =>
                  'attempt' in row ? (
                    <AttemptRow key={i} attempt={row.attempt} />
                  ) : (
                    <BoundaryRow key={i} event={row.event} />
                  ),
                )}
              </tbody>
            </table>
          </div>
        ) : null}
        <dl className="kv small">
          <dt>Idempotency key</dt>
          <dd className="mono">{step.idempotency_key}</dd>
        </dl>
        {step.output !== undefined && step.output !== null ? (
          <JsonBlock title={`Output of ${step.name}`} value={step.output} />
        ) : null}
      </div>
    </li>
  );
}
