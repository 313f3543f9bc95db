// What the header's search box found (GET /search): a run, the runs of a record or a customer,
// or the customers whose email or name starts with the text, with links to each.
import { client, ok } from '../api.ts';
import { useCan } from '../auth.tsx';
import { RunTable } from '../components/RunTable.tsx';
import { Empty, ErrorNote, Loading, PageHeader, StatusBadge } from '../components/ui.tsx';
import { humanize } from '../format.ts';
import { useApi } from '../hooks.ts';
import { Link, useLocation } from '../router.tsx';

const MATCH_WORDS = {
  run: 'a run id',
  record: 'a record id',
  customer: 'a customer id',
  text: 'the start of an email address or a name',
} as const;

export function SearchPage() {
  const text = (useLocation().search.get('q') ?? '').trim();
  const can = useCan();
  const found = useApi(text ? `search:${text}` : null, () =>
    ok(client.GET('/api/v1/search', { params: { query: { q: text } } })),
  );

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
      {data && data.runs.length > 0 && can('account_manager') ? (
        <section aria-label="Runs">
          <h2>Runs</h2>
          <RunTable runs={data.runs} label="Runs found" showType />
        </section>
      ) : null}
    </>
  );
}
