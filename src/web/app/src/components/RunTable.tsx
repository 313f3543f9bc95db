// A table of runs and its keyset pager: shared by the run lists of one type, the failed-runs
// inbox and the search results, so a run reads the same everywhere.
import { useWorkflowTypes } from '../hooks.ts';
import { Link, navigate, useLocation, withParams } from '../router.tsx';
import type { RunListItem } from '../types.ts';
import { RunStatus, RunStep } from './RunBits.tsx';
import { Pager } from './ui.tsx';
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

/**
 * Keyset paging kept in the URL: `cursor` is the current page, `back` the cursors of the pages
 * before it ('-' for the first), so Previous works without offsets and a reload keeps the page.
 */
export function usePageCursor(): { cursor: string; depth: number } {
  const q = useLocation().search;
  const back = q.get('back');
  return { cursor: q.get('cursor') ?? '', depth: back ? back.split(' ').length : 0 };
}

/** URL changes that leave paging (a filter, sort or page size changed): back to the first page. */
export const FIRST_PAGE = { cursor: null, back: null } as const;

export function KeysetPager({ nextCursor }: { nextCursor: string | null }) {
  const loc = useLocation();
  const cursor = loc.search.get('cursor') ?? '';
  const back = loc.search.get('back') ? (loc.search.get('back') ?? '').split(' ') : [];
  if (!cursor && !nextCursor) return null;
  return (
    <Pager
      hasPrevious={!!cursor}
      hasNext={!!nextCursor}
      onPrevious={() => {
        const previous = back[back.length - 1];
        navigate(
          withParams(loc, {
            cursor: previous === '-' ? null : (previous ?? null),
            back: back.slice(0, -1).join(' ') || null,
          }),
        );
      }}
      onNext={() => navigate(withParams(loc, { cursor: nextCursor, back: [...back, cursor || '-'].join(' ') }))}
    />
  );
}
