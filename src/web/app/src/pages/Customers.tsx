// Billing records: customers (search, detail with everything they have) and any record by id.
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { client, ok } from '../api.ts';
import { useCan } from '../auth.tsx';
import { RunStatus, RunStep } from '../components/RunBits.tsx';
import { Empty, ErrorNote, Loading, PageHeader, Pager, StatusBadge } from '../components/ui.tsx';
import { dateTime, humanize, money, relative } from '../format.ts';
import { useApi, useWorkflowTypes } from '../hooks.ts';
import { Link, navigate, useLocation, withParams } from '../router.tsx';
import type { InvoiceLine } from '../types.ts';

export function CustomersPage() {
  const loc = useLocation();
  const email = loc.search.get('email') ?? '';
  const cursor = loc.search.get('cursor') ?? '';
  const back = loc.search.get('back') ? (loc.search.get('back') ?? '').split(' ') : [];
  const [draft, setDraft] = useState(email);
  useEffect(() => setDraft(email), [email]);
  const list = useApi(`customers:${email}:${cursor}`, () =>
    ok(client.GET('/api/v1/customers', { params: { query: { email, cursor, limit: 25 } } })),
  );
  return (
    <>
      <PageHeader title="Customers" />
      <form
        className="card filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(withParams(loc, { email: draft.trim() || null, cursor: null, back: null }));
        }}
      >
        <div className="field">
          <label htmlFor="customer-search">Search by email</label>
          <div className="input-row">
            <input
              id="customer-search"
              type="search"
              value={draft}
              placeholder="name@example.com"
              onChange={(e) => setDraft(e.target.value)}
            />
            <button type="submit">Search</button>
          </div>
        </div>
      </form>
      <ErrorNote error={list.error} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && list.data.items.length === 0 ? (
        <Empty>{email ? `No customer has the email “${email}”.` : 'No customers yet.'}</Empty>
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        <div className="table-wrap">
          <table className="table" aria-label="Customers">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/customers/${c.id}`}>{c.email}</Link>
                  </td>
                  <td>{c.name ?? '—'}</td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td title={dateTime(c.created_at)}>{relative(c.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.data && (cursor || list.data.next_cursor) ? (
        <Pager
          hasPrevious={!!cursor}
          hasNext={!!list.data.next_cursor}
          onPrevious={() => {
            const previous = back[back.length - 1];
            navigate(
              withParams(loc, {
                cursor: previous === '-' ? null : (previous ?? null),
                back: back.slice(0, -1).join(' ') || null,
              }),
            );
          }}
          onNext={() =>
            navigate(
              withParams(loc, { cursor: list.data?.next_cursor ?? null, back: [...back, cursor || '-'].join(' ') }),
            )
          }
        />
      ) : null}
    </>
  );
}

function str(v: unknown): string {
  return v === null || v === undefined ? '—' : String(v);
}

export function CustomerPage({ id }: { id: string }) {
  const can = useCan();
  const { label } = useWorkflowTypes();
  const detail = useApi(
    `customer:${id}`,
    () => ok(client.GET('/api/v1/customers/{id}', { params: { path: { id } } })),
    5000,
  );
  if (detail.loading && !detail.data) return <Loading />;
  if (!detail.data) return <ErrorNote error={detail.error} />;
  const { customer, subscriptions, invoices, payments, runs } = detail.data;
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/customers">Customers</Link> / <span>{customer.email}</span>
      </nav>
      <PageHeader
        title={
          <>
            {customer.name ?? customer.email} <StatusBadge status={customer.status} />
          </>
        }
      />
      <section className="card">
        <dl className="kv grid">
          <dt>Email</dt>
          <dd>{customer.email}</dd>
          <dt>Id</dt>
          <dd className="mono">{customer.id}</dd>
          <dt>Locale</dt>
          <dd>{customer.locale ?? '—'}</dd>
          <dt>Currency</dt>
          <dd>{customer.currency ?? '—'}</dd>
          <dt>Payment method</dt>
          <dd className="mono">{customer.payment_method ?? '—'}</dd>
          <dt>Created</dt>
          <dd>{dateTime(customer.created_at)}</dd>
        </dl>
      </section>
      <RecordTable
        title="Subscriptions"
        empty="No subscriptions."
        rows={subscriptions}
        columns={[
          [
            'Subscription',
            (s) => (
              <Link to={`/records/subscription/${s.id}`} className="mono">
                {s.id}
              </Link>
            ),
          ],
          ['Status', (s) => <StatusBadge status={str(s.status)} />],
          ['Price', (s) => `${money(s.amount, s.currency)} / ${str(s.interval)}`],
          ['Current period ends', (s) => dateTime(s.current_period_end)],
        ]}
      />
      <RecordTable
        title="Invoices"
        empty="No invoices."
        rows={invoices}
        columns={[
          ['Number', (i) => <Link to={`/records/invoice/${i.id}`}>{str(i.number)}</Link>],
          ['Status', (i) => <StatusBadge status={str(i.status)} />],
          ['Total', (i) => money(i.total, i.currency)],
          ['Due', (i) => dateTime(i.due_at)],
        ]}
      />
      <RecordTable
        title="Payments"
        empty="No payments."
        rows={payments}
        columns={[
          [
            'Payment',
            (p) => (
              <Link to={`/records/payment/${p.id}`} className="mono">
                {p.id}
              </Link>
            ),
          ],
          ['Status', (p) => <StatusBadge status={str(p.status)} />],
          ['Amount', (p) => money(p.amount, p.currency)],
          ['Date', (p) => dateTime(p.created_at)],
        ]}
      />
      {can('account_manager') ? (
        <RecordTable
          title="Workflow runs"
          empty="No runs."
          rows={runs}
          columns={[
            [
              'Run',
              (r) => (
                <Link to={`/runs/${r.id}`} className="mono">
                  {r.id}
                </Link>
              ),
            ],
            ['Type', (r) => label(r.type)],
            ['Status', (r) => <RunStatus run={r} />],
            ['Step', (r) => <RunStep run={r} />],
            ['Created', (r) => relative(r.created_at)],
          ]}
        />
      ) : null}
    </>
  );
}

/** A card with one table of a customer's records: a header and a cell per column, or an empty note. */
function RecordTable<T extends { id: string }>(props: {
  title: string;
  empty: string;
  rows: T[];
  columns: [header: string, cell: (row: T) => ReactNode][];
}) {
  return (
    <section className="card" aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.rows.length === 0 ? (
        <Empty>{props.empty}</Empty>
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              {props.columns.map(([header]) => (
                <th key={header} scope="col">
                  {header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row) => (
              <tr key={row.id}>
                {props.columns.map(([header, cell]) => (
                  <td key={header}>{cell(row)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The billing records a page shows by kind: /records/<kind>/<id>. */
const RECORDS: Record<string, (id: string) => Promise<Record<string, unknown> & { id: string }>> = {
  subscription: (id) => ok(client.GET('/api/v1/subscriptions/{id}', { params: { path: { id } } })),
  invoice: (id) => ok(client.GET('/api/v1/invoices/{id}', { params: { path: { id } } })),
  payment: (id) => ok(client.GET('/api/v1/payments/{id}', { params: { path: { id } } })),
  refund: (id) => ok(client.GET('/api/v1/refunds/{id}', { params: { path: { id } } })),
  chargeback: (id) => ok(client.GET('/api/v1/chargebacks/{id}', { params: { path: { id } } })),
};

/** Any billing record by kind and id: its fields, with links to the customer and related records. */
export function RecordPage({ kind, id }: { kind: string; id: string }) {
  const load = RECORDS[kind];
  const rec = useApi(load ? `${kind}:${id}` : null, () => (load ? load(id) : Promise.reject(new Error(kind))));
  if (!load) return <Empty>Unknown record kind “{kind}”.</Empty>;
  if (rec.loading && !rec.data) return <Loading />;
  if (!rec.data) return <ErrorNote error={rec.error} />;
  const data = rec.data;
  const linkFor = (key: string, value: unknown) => {
    if (typeof value !== 'string') return null;
    if (key === 'customer_id') return `/customers/${value}`;
    const k = key.replace(/_id$/, '');
    return RECORDS[k] ? `/records/${k}/${value}` : null;
  };
  const currency = typeof data.currency === 'string' ? data.currency : null;
  return (
    <>
      <PageHeader
        title={
          <>
            {humanize(kind)} <span className="mono small">{id}</span>{' '}
            {typeof data.status === 'string' ? <StatusBadge status={data.status} /> : null}
          </>
        }
      />
      <section className="card">
        <dl className="kv grid">
          {Object.entries(data)
            .filter(([, v]) => typeof v !== 'object' || v === null)
            .map(([k, v]) => {
              const to = linkFor(k, v);
              const isMoney = typeof v === 'number' && /amount|total|subtotal|tax/.test(k);
              const isDate = typeof v === 'string' && /_at$|_end$|_start$/.test(k);
              return [
                <dt key={`${k}-t`}>{humanize(k)}</dt>,
                <dd key={`${k}-d`}>
                  {to ? (
                    <Link to={to} className="mono">
                      {String(v)}
                    </Link>
                  ) : isMoney ? (
                    money(v, currency)
                  ) : isDate ? (
                    dateTime(v)
                  ) : (
                    str(v)
                  )}
                </dd>,
              ];
            })}
        </dl>
      </section>
      {Array.isArray(data.lines) ? (
        <section className="card" aria-label="Lines">
          <h2>Lines</h2>
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Description</th>
                <th scope="col">Quantity</th>
                <th scope="col">Amount</th>
              </tr>
            </thead>
            <tbody>
              {(data.lines as InvoiceLine[]).map((l, i) => (
                <tr key={i}>
                  <td>{str(l.description)}</td>
                  <td>{str(l.quantity)}</td>
                  <td>{money(l.amount, currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </>
  );
}
