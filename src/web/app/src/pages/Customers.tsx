// Customers: search by email, and a new customer (customer_support and above).
import { useEffect, useState } from 'react';
import { client, ok } from '../api.ts';
import { FIRST_PAGE, KeysetPager, usePageCursor } from '../components/KeysetPager.tsx';
import { useCan } from '../auth.tsx';
import { Empty, ErrorNote, Loading, PageHeader, StatusBadge } from '../components/ui.tsx';
import { useApi } from '../hooks.ts';
import { Link, navigate, useLocation, withParams } from '../router.tsx';
import { NewCustomerDialog } from './support/CustomerForms.tsx';
import { Time } from '../components/Time.tsx';

export function CustomersPage() {
  const loc = useLocation();
  const email = loc.search.get('email') ?? '';
  const { cursor } = usePageCursor();
  const [draft, setDraft] = useState(email);
  const [creating, setCreating] = useState(false);
  const can = useCan();
  useEffect(() => setDraft(email), [email]);
  const list = useApi(`customers:${email}:${cursor}`, () =>
    ok(client.GET('/api/v1/customers', { params: { query: { email, cursor, limit: 25 } } })),
  );
  return (
    <>
      <PageHeader title="Customers">
        {can('customer_support') ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New customer
          </button>
        ) : null}
      </PageHeader>
      {creating ? (
        <NewCustomerDialog
          onClose={() => setCreating(false)}
          onCreated={(c) => navigate(`/customers/${c.id}?created=1`)}
        />
      ) : null}
      <form
        className="card filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(withParams(loc, { email: draft.trim() || null, ...FIRST_PAGE }));
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
        <div className="table-wrap" tabIndex={0}>
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
                  <td>
                    <Time iso={c.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.data ? <KeysetPager nextCursor={list.data.next_cursor} /> : null}
    </>
  );
}
