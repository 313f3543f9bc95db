// "Run now" says exactly what it does for the run's state (a waiting step checks again, a retry
// happens now, a pending run starts), then follows the run until its step ran and says what came of it.
import { client, ok } from '../../api.ts';
import { dateTime, dateTimeAndRelative, errorText } from '../../format.ts';
import { useApi } from '../../hooks.ts';
import type { RunDetail } from '../../types.ts';

function until(iso: string | null | undefined): string {
  return iso ? dateTimeAndRelative(iso) : 'later';
}

export function runNowConsequences(run: RunDetail, current: string): string[] {
  if (run.status === 'pending') return [`The run starts now with ${current}.`, 'This dialog then says what it did.'];
  if (run.activity === 'waiting') {
    return [
      `${current} is a waiting step, due at ${until(run.activity_until)}. It runs now instead: it checks at once whether what it waits for has happened.`,
      'If it has (for example, the invoice was paid), the run goes on. If not, the step waits again, and this dialog says until when.',
    ];
  }
  if (run.activity === 'retrying') {
    return [
      `The next attempt of ${current} runs now instead of at ${until(run.activity_until)}.`,
      'If it succeeds, the run goes on; if it fails, it is retried later, or after its last attempt the run fails.',
    ];
  }
  if (run.activity === 'queued') {
    return [
      `The run is queued behind ${run.waiting_for ?? 'another run of its subject'}; it becomes due now but still runs only after that run.`,
    ];
  }
  return [`${current} runs now.`];
}

/** Follows the run after "Run now" until the step has run, then says what happened. */
export function RunNowReport({ runId, before }: { runId: string; before: RunDetail }) {
  const at = before.step_index;
  const step = before.steps[at]?.name ?? before.current_step ?? 'the step';
  const attemptsBefore = before.steps[at]?.attempts.length ?? 0;
  const live = useApi(
    `run-now:${runId}`,
    () => ok(client.GET('/api/v1/workflows/{id}', { params: { path: { id: runId } } })),
    500,
  );
  const r = live.data;
  const attempts = r?.steps[at]?.attempts ?? [];
  const settled =
    r &&
    (r.status !== 'in_progress' ||
      r.step_index !== at ||
      (attempts.length > attemptsBefore && r.activity !== 'running'));
  if (!r || !settled) {
    return (
      <div className="note" role="status">
        Asked to run now; waiting for a worker to run {step}…
      </div>
    );
  }
  const last = attempts[attempts.length - 1];
  let text: string;
  let good = true;
  if (r.status === 'completed') {
    text = `${step} ran; the run completed${r.outcome && r.outcome !== 'completed' ? ` (${r.outcome})` : ''}.`;
  } else if (r.status === 'failed') {
    good = false;
    text = `${step} ran and failed: ${errorText(r.error)}. The run is failed at ${r.failed_step ?? step}.`;
  } else if (r.status === 'cancelled') {
    good = false;
    text = 'The run was cancelled meanwhile.';
  } else if (r.step_index !== at) {
    const next = r.current_step ?? r.steps[r.step_index]?.name ?? 'the next step';
    const doing =
      r.activity === 'waiting'
        ? `, which waits until ${dateTime(r.activity_until)}`
        : r.activity === 'retrying'
          ? `, which retries ${until(r.activity_until)}`
          : '';
    text = `${step} finished; the run went on to ${next}${doing}.`;
  } else if (r.activity === 'waiting') {
    good = false;
    text = `${step} checked at ${dateTime(last?.ended_at ?? last?.started_at)}: what it waits for has not happened yet, so it waits again until ${dateTime(r.activity_until)}.`;
  } else {
    good = false;
    text = `${step} failed again${last?.error ? ` (${errorText(last.error)})` : ''}; the next attempt is ${until(r.activity_until)}.`;
  }
  return (
    <div className={good ? 'note note-ok' : 'note'} role="status">
      {text}
    </div>
  );
}
