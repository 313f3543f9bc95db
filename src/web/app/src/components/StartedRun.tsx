// What a support action did, and the workflow run it started, with the run's live status.
import { useCan } from '../auth.tsx';
import { useWorkflowTypes } from '../hooks.ts';
import { Link } from '../router.tsx';
import type { RunSummary } from '../types.ts';
import { RunStatus } from './RunBits.tsx';

export interface Done {
  /** One sentence: "Payment of €12.00 recorded." */
  what: string;
  /** The run the action started, when the API named it. */
  runId?: string;
  /** Or the record whose run the action moved on (an invoice marked paid ends its run). */
  subjectRef?: string;
}

/** The run is read from the customer's recent runs (polled by the page), so every role sees its status. */
export function StartedRun({ done, runs }: { done: Done; runs: RunSummary[] }) {
  const can = useCan();
  const { label } = useWorkflowTypes();
  const run = done.runId
    ? runs.find((r) => r.id === done.runId)
    : done.subjectRef
      ? runs.find((r) => r.subject_ref === done.subjectRef)
      : undefined;
  const runId = done.runId ?? run?.id;
  return (
    <div className="note note-ok" role="status" aria-label="Result">
      <strong>{done.what}</strong>
      {runId ? (
        <div>
          {done.runId ? 'Started' : 'Its'} {run ? label(run.type) : 'workflow'} run{' '}
          {can('account_manager') ? (
            <Link to={`/runs/${runId}`} className="mono">
              {runId}
            </Link>
          ) : (
            <span className="mono">{runId}</span>
          )}
          : {run ? <RunStatus run={run} /> : 'starting…'}
        </div>
      ) : null}
    </div>
  );
}
