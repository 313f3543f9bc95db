// The email outbox (where mail goes without SMTP).
import { useState } from 'react';
import { client, ok } from '../api.ts';
import { KeysetPager, usePageCursor } from '../components/KeysetPager.tsx';
import { Dialog, Empty, ErrorNote, Loading } from '../components/ui.tsx';
import { useApi } from '../hooks.ts';
import { Link } from '../router.tsx';
import { Time } from '../components/Time.tsx';

export function OutboxTab() {
  const { cursor } = usePageCursor();
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
      {list.data ? <KeysetPager nextCursor={list.data.next_cursor} /> : null}
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
