// The failed-runs inbox: every failed run of every workflow type in one list, by failure time,
// with the total, a type filter, sorting and page size kept in the URL.
import { PageSizeField, SortField } from '../components/ListControls.tsx';
import { client, ok } from '../api.ts';
import { FIRST_PAGE, KeysetPager, usePageCursor } from '../components/KeysetPager.tsx';
import { RunTable } from '../components/RunTable.tsx';
import { Empty, ErrorNote, Field, Loading, PageHeader } from '../components/ui.tsx';
import { useApi, useWorkflowTypes } from '../hooks.ts';
import { Link, navigate, useLocation, withParams } from '../router.tsx';

const POLL_MS = 3000;
const PAGE_SIZES = [25, 50, 100] as const;
const DEFAULT_PAGE_SIZE = 25;
const SORTS = { failed_desc: 'Newest failure first', failed_asc: 'Oldest failure first' } as const;
type Sort = keyof typeof SORTS;

function isSort(value: string): value is Sort {
  return value in SORTS;
}

/** The page size from the URL, when it is one the page offers (anything else: the default). */
function pageSize(value: string | null): number {
  const n = Number(value);
  return PAGE_SIZES.some((size) => size === n) ? n : DEFAULT_PAGE_SIZE;
}

export function InboxPage() {
  const loc = useLocation();
  const q = loc.search;
  const { types, find } = useWorkflowTypes();
  const typeParam = q.get('type') ?? '';
  // An unknown type in a hand-edited URL would be a 400: list all types instead.
  const type = types && !find(typeParam) ? '' : typeParam;
  const sortParam = q.get('sort') ?? '';
  const sort: Sort = isSort(sortParam) ? sortParam : 'failed_desc';
  const limit = pageSize(q.get('limit'));
  const { cursor, depth } = usePageCursor();

  const runs = useApi(
    JSON.stringify(['inbox', type, sort, limit, cursor]),
    () =>
      ok(
        client.GET('/api/v1/workflows', {
          params: { query: { status: 'failed', type: type || undefined, sort, limit, cursor: cursor || undefined } },
        }),
      ),
    POLL_MS,
  );
  // The total comes from the maintained counters (the menu's badges), not from counting the list.
  const counts = useApi('counts', () => ok(client.GET('/api/v1/workflows/counts')), POLL_MS);
  const total = counts.data?.items
    .filter((c) => c.status === 'failed' && (!type || c.type === type))
    .reduce((sum, c) => sum + c.count, 0);

  const setParams = (changes: Record<string, string | null>) =>
    navigate(withParams(loc, { ...changes, ...FIRST_PAGE }), { replace: true });
  const items = runs.data?.items ?? [];
  const first = depth * limit + 1;

  return (
    <>
      <PageHeader title="Failed runs">
        <Link className="button" to={type ? `/bulk-restart?type=${type}` : '/bulk-restart'}>
          Bulk restart…
        </Link>
      </PageHeader>
      <p className="muted" aria-live="polite">
        {total === undefined
          ? 'Counting failed runs…'
          : `${total} failed ${total === 1 ? 'run' : 'runs'}${type ? ` of ${find(type)?.label ?? type}` : ''}` +
            (items.length > 0 ? ` · showing ${first}–${first + items.length - 1}` : '')}
      </p>
      <form className="filters card" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Workflow">
          {(id) => (
            <select id={id} value={type} onChange={(e) => setParams({ type: e.target.value || null })}>
              <option value="">All workflows</option>
              {types?.map((t) => (
                <option key={t.type} value={t.type}>
                  {t.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <SortField sorts={SORTS} sort={sort} defaultSort="failed_desc" setParams={setParams} />
        <PageSizeField sizes={PAGE_SIZES} limit={limit} defaultSize={DEFAULT_PAGE_SIZE} setParams={setParams} />
      </form>

      <ErrorNote error={runs.error ?? counts.error} />
      {runs.loading && !runs.data ? <Loading /> : null}
      {runs.data && items.length === 0 ? (
        <Empty>{cursor ? 'No more failed runs.' : 'No failed runs. Everything that started has gone through.'}</Empty>
      ) : null}
      {items.length > 0 ? <RunTable runs={items} label="Failed runs" showType failed /> : null}
      {runs.data ? <KeysetPager nextCursor={runs.data.next_cursor} /> : null}
    </>
  );
}
