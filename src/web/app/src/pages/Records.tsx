// Any billing record by kind and id: its fields, with links to the customer and related records.
import { client, ok } from '../api.ts';
import { Empty, ErrorNote, Loading, PageHeader, StatusBadge } from '../components/ui.tsx';
import { humanize, money } from '../format.ts';
import { useApi } from '../hooks.ts';
import { Link } from '../router.tsx';
import type { InvoiceLine } from '../types.ts';
import { Time } from '../components/Time.tsx';

function str(v: unknown): string {
  return v === null || v === undefined ? '—' : String(v);
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
                    <Time iso={v} />
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
