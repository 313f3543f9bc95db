// What the header's search box found (GET /search): a run, the runs of a record or a customer,
// or the customers whose email or name starts with the text, with links to each. The runs page
// like the run lists: keyset pages, a count, sort and page size kept in the URL.
import { PageSizeField, SortField } from '../components/ListControls.tsx';
import { client, ok } from '../api.ts';
import { useCan } from '../auth.tsx';
import { FIRST_PAGE, KeysetPager, usePageCursor } from '../components/KeysetPager.tsx';
import { RunTable } from '../components/RunTable.tsx';
import { Empty, ErrorNote, Loading, PageHeader, StatusBadge } from '../components/ui.tsx';
import { humanize } from '../format.ts';
import { useApi } from '../hooks.ts';
import { Link, navigate, useLocation, withParams } from '../router.tsx';

const MATCH_WORDS = {
  run: 'a run id',
  record: 'a record id',
  customer: 'a customer id',
  text: 'the start of an email address or a name',
} as const;

const PAGE_SIZES = [20, 50, 100] as const;
const DEFAULT_PAGE_SIZE = 20;
const SORTS = { created_desc: 'Newest first', created_asc: 'Oldest first' } as const;
type Sort = keyof typeof SORTS;

export function SearchPage() {
  const loc = useLocation();
  const text = (loc.search.get('q') ?? '').trim();
  const sortParam = loc.search.get('sort') ?? '';
  const sort: Sort = sortParam in SORTS ? (sortParam as Sort) : 'created_desc';
  const sizeParam = Number(loc.search.get('limit'));
  const limit = PAGE_SIZES.some((n) => n === sizeParam) ? sizeParam : DEFAULT_PAGE_SIZE;
  const { cursor, depth } = usePageCursor();
  const can = useCan();
  const found = useApi(text ? JSON.stringify(['search', text, sort, limit, cursor]) : null, () =>
    ok(
      client.GET('/api/v1/search', {
        params: { query: { q: text, sort, limit, cursor: cursor || undefined } },
      }),
    ),
  );
  const setParams = (changes: Record<string, string | null>) =>
    navigate(withParams(loc, { ...changes, ...FIRST_PAGE }), { replace: true });

  if (!text) {
    return (
      <>
        <PageHeader title="Search" />
        <Empty>Type in the search box at the top of the page and press Enter.</Empty>
      </>
    );
  }
  const data = found.data;
  const nothing = data && data.runs.length === 0 && data.customers.length === 0 && !data.record;
  return (
    <>
      <PageHeader title={`Search: “${text}”`} />
      <ErrorNote error={found.error} />
      {found.loading && !data ? <Loading label="Searching…" /> : null}
      {data ? (
        <p className="muted">
          Read as {MATCH_WORDS[data.match]}.
          {data.runs_visible
            ? null
            : ' Your role shows customers and records; runs are for account managers and above.'}
        </p>
      ) : null}
      {nothing ? <Empty>Nothing found for “{text}”.</Empty> : null}
      {data?.record ? (
        <section className="card" aria-label="Record">
          <h2>{humanize(data.record.kind)}</h2>
          <Link to={`/records/${data.record.kind}/${data.record.id}`} className="mono">
            {data.record.id}
          </Link>
        </section>
      ) : null}
      {data && data.customers.length > 0 ? (
        <section className="card" aria-label="Customers">
          <h2>Customers</h2>
          <ul className="plain-list">
            {data.customers.map((c) => (
              <li key={c.id}>
                <Link to={`/customers/${c.id}`}>{c.email}</Link>
                {c.name ? <span> · {c.name}</span> : null} <span className="muted small mono">{c.id}</span>{' '}
                <StatusBadge status={c.status} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {data && data.runs_visible && can('account_manager') && (data.runs_total > 0 || cursor) ? (
        <section aria-label="Runs">
          <h2>Runs</h2>
          <p className="muted" aria-live="polite">
            {data.runs_total_capped ? `More than ${data.runs_total}` : data.runs_total}{' '}
            {data.runs_total === 1 && !data.runs_total_capped ? 'run' : 'runs'}
            {data.runs.length > 0
              ? ` · showing ${depth * limit + 1}–${depth * limit + data.runs.length}`
              : ' · no more runs on this page'}
          </p>
          <form className="filters" aria-label="Sort and page size" onSubmit={(e) => e.preventDefault()}>
            <SortField sorts={SORTS} sort={sort} defaultSort="created_desc" setParams={setParams} />
            <PageSizeField sizes={PAGE_SIZES} limit={limit} defaultSize={DEFAULT_PAGE_SIZE} setParams={setParams} />
          </form>
          {data.runs.length > 0 ? <RunTable runs={data.runs} label="Runs found" showType /> : null}
          <KeysetPager nextCursor={data.runs_next_cursor} />
        </section>
      ) : null}
    </>
  );
}
