// A table of runs: shared by the run lists of one type, the failed-runs inbox, bulk restart and
// the search results, so a run reads the same everywhere.
import { useWorkflowTypes } from '../hooks.ts';
import { Link } from '../router.tsx';
import type { RunListItem } from '../types.ts';
import { RunStatus, RunStep } from './RunBits.tsx';
import { Time } from './Time.tsx';

/**
 * The runs in a scrollable table; `showType` adds the workflow type (lists across all types), and
 * `failed` shows when each failed instead of its last update (lists sorted by failure time).
 */
export function RunTable({
  runs,
  label,
  showType,
  failed,
}: {
  runs: RunListItem[];
  label: string;
  showType?: boolean;
  failed?: boolean;
}) {
  const { label: typeLabel } = useWorkflowTypes();
  return (
    // Focusable so keyboard users can scroll it sideways on narrow screens.
    <div className="table-wrap" tabIndex={0}>
      <table className="table runs-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Run</th>
            {showType ? <th scope="col">Workflow</th> : null}
            <th scope="col">Status</th>
            <th scope="col">Subject</th>
            <th scope="col">Step</th>
            <th scope="col">Created</th>
            <th scope="col">{failed ? 'Failed' : 'Updated'}</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} data-run-id={run.id}>
              <td>
                <Link to={`/runs/${run.id}`} className="mono">
                  {run.id}
                </Link>
              </td>
              {showType ? <td>{typeLabel(run.type)}</td> : null}
              <td>
                <RunStatus run={run} />
              </td>
              <td>
                {run.customer_email ? <div>{run.customer_email}</div> : null}
                <div className="muted small mono">{run.subject_ref ?? '—'}</div>
              </td>
              <td>
                <RunStep run={run} />
              </td>
              <td>
                <Time iso={run.created_at} />
              </td>
              {failed ? (
                <td>
                  <Time iso={run.failed_at} />
                </td>
              ) : (
                <td>
                  <Time iso={run.updated_at} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
