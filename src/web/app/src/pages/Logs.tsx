// The email outbox (where mail goes without SMTP).
import { useState } from 'react';
import { client, ok } from '../api.ts';
import { Dialog, Empty, ErrorNote, Loading, Pager } from '../components/ui.tsx';
import { useApi } from '../hooks.ts';
import { Link, navigate, useLocation, withParams } from '../router.tsx';
import { Time } from '../components/Time.tsx';

/** Keyset paging kept in the URL: the cursor and the way back. */
export function usePaging(prefix: string) {
  const loc = useLocation();
  const cursor = loc.search.get(`${prefix}cursor`) ?? '';
  const back = loc.search.get(`${prefix}back`) ? (loc.search.get(`${prefix}back`) ?? '').split(' ') : [];
  return {
    cursor,
    pager: (next: string | null | undefined) =>
      cursor || next ? (
        <Pager
          hasPrevious={!!cursor}
          hasNext={!!next}
          onPrevious={() => {
            const previous = back[back.length - 1];
            navigate(
              withParams(loc, {
                [`${prefix}cursor`]: previous === '-' ? null : (previous ?? null),
                [`${prefix}back`]: back.slice(0, -1).join(' ') || null,
              }),
            );
          }}
          onNext={() =>
            navigate(
              withParams(loc, {
                [`${prefix}cursor`]: next ?? null,
                [`${prefix}back`]: [...back, cursor || '-'].join(' '),
              }),
            )
          }
        />
      ) : null,
  };
}

export function OutboxTab() {
  const { cursor, pager } = usePaging('');
  const list = useApi(
    `outbox:${cursor}`,
    () => ok(client.GET('/api/v1/outbox', { params: { query: { cursor, limit: 25 } } })),
    10_000,
  );
  const [open, setOpen] = useState<string>();
  const detail = useApi(open ? `outbox-item:${open}` : null, () =>
    ok(client.GET('/api/v1/outbox/{id}', { params: { path: { id: open ?? '' } } })),
  );
  return (
    <section className="card" aria-label="Email outbox">
      <h2>Email outbox</h2>
      <p className="muted">Without an SMTP server (SMTP_URL), emails are kept here instead of sent.</p>
      <ErrorNote error={list.error} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && list.data.items.length === 0 ? <Empty>The outbox is empty.</Empty> : null}
      {list.data && list.data.items.length > 0 ? (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">To</th>
              <th scope="col">Run</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((m) => (
              <tr key={m.id}>
                <td>
                  <button type="button" className="link-button" onClick={() => setOpen(m.id)}>
                    {m.subject}
                  </button>
                </td>
                <td>{m.to_addresses?.join(', ')}</td>
                <td>
                  {m.run_id ? (
                    <Link to={`/runs/${m.run_id}`} className="mono small">
                      {m.run_id}
                    </Link>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  <Time iso={m.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {pager(list.data?.next_cursor)}
      <Dialog title={detail.data?.subject ?? 'Email'} open={!!open} onClose={() => setOpen(undefined)} wide>
        <ErrorNote error={detail.error} />
        {detail.data ? (
          <>
            <p className="small muted">To {detail.data.to_addresses?.join(', ')}</p>
            <pre className="preview-body">{detail.data.text_body}</pre>
            {detail.data.attachments.length > 0 ? (
              <ul className="plain">
                {detail.data.attachments.map((a) => (
                  <li key={a.position}>
                    <a href={`/api/v1/outbox/${detail.data?.id}/attachments/${a.position}`}>{a.filename}</a> (
                    {Math.round(a.size / 1024)} KB)
                  </li>
                ))}
              </ul>
            ) : null}
          </>
        ) : (
          <Loading />
        )}
      </Dialog>
    </section>
  );
}
