// The operator actions on a run (restart, skip, cancel, run now): what each will do, in the
// operator's terms, a reason for the audit log, and what happened.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { client, ok } from '../../api.ts';
import { Dialog, ErrorNote, Field } from '../../components/ui.tsx';
import { humanize } from '../../format.ts';
import { useAction, useWorkflowTypes } from '../../hooks.ts';
import type { ActionResult, RunDetail } from '../../types.ts';
import { RunNowReport, runNowConsequences } from './RunNow.tsx';

/** Each operator action and the API operation that performs it. */
const ACTION_PATHS = {
  restart: '/api/v1/workflows/{id}/restart',
  'skip-step': '/api/v1/workflows/{id}/skip-step',
  cancel: '/api/v1/workflows/{id}/cancel',
  'run-now': '/api/v1/workflows/{id}/run-now',
} as const;
export type ActionKind = keyof typeof ACTION_PATHS;

export const ACTION_LABELS: Record<ActionKind, string> = {
  restart: 'Restart from failed step',
  'skip-step': 'Skip failed step',
  cancel: 'Cancel run',
  'run-now': 'Run now',
};

export function allowed(run: RunDetail): ActionKind[] {
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
      return runNowConsequences(run, current);
  }
}

export function ActionDialog({
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
  // The run as it was when the dialog opened: what "Run now" is compared with, while the page refreshes.
  const [opened] = useState(run);
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
          {action === 'run-now' ? (
            <RunNowReport runId={run.id} before={opened} />
          ) : (
            <div className="note note-ok" role="status">
              Done: the run went from <strong>{humanize(result.previous_status)}</strong> to{' '}
              <strong>{humanize(result.status)}</strong>.
            </div>
          )}
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
