// The alerts bell: unread failure alerts, a dropdown linking to their runs, mark read.
import { useEffect, useRef, useState } from 'react';
import { client, ok } from '../api.ts';
import { useApi } from '../hooks.ts';
import { Link } from '../router.tsx';
import { Time } from './Time.tsx';

const POLL_MS = 4000;

export function Bell() {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const count = useApi(
    'unread',
    () => ok(client.GET('/api/v1/notifications/unread-count', { params: { query: { kind: 'alert' } } })),
    POLL_MS,
  );
  const list = useApi(open ? 'alerts' : null, () =>
    ok(client.GET('/api/v1/notifications', { params: { query: { kind: 'alert', limit: 15 } } })),
  );
  const unread = count.data?.unread ?? 0;
  const bellButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        bellButton.current?.focus();
      }
    };
    const onClick = (e: MouseEvent) => {
      if (box.current && e.target instanceof Node && !box.current.contains(e.target)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('mousedown', onClick);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('mousedown', onClick);
    };
  }, [open]);

  const markRead = async (ids: string[]) => {
    if (ids.length > 0) await ok(client.POST('/api/v1/notifications/read', { body: { ids } }));
    await Promise.all([count.reload(), list.reload()]);
  };
  const markAll = async () => {
    const newest = list.data?.items[0]?.created_at;
    await ok(client.POST('/api/v1/notifications/read-all', { params: { query: { up_to: newest, kind: 'alert' } } }));
    await Promise.all([count.reload(), list.reload()]);
  };

  return (
    <div className="bell" ref={box}>
      <button
        ref={bellButton}
        type="button"
        className="icon-button"
        aria-label={unread > 0 ? `Alerts, ${unread} unread` : 'Alerts, none unread'}
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true">
          <path
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
            fill="currentColor"
          />
        </svg>
        {unread > 0 ? <span className="bell-count">{unread > 99 ? '99+' : unread}</span> : null}
      </button>
      {open ? (
        <div className="dropdown bell-panel" role="region" aria-label="Failure alerts">
          <div className="dropdown-head">
            <strong>Failure alerts</strong>
            <button type="button" className="link-button" onClick={() => void markAll()} disabled={unread === 0}>
              Mark all read
            </button>
          </div>
          {list.loading && !list.data ? <p className="muted pad">Loading…</p> : null}
          {list.data && list.data.items.length === 0 ? (
            <p className="muted pad">No alerts. All runs are healthy.</p>
          ) : null}
          <ul className="alert-list">
            {list.data?.items.map((n) => (
              <li key={n.id} className={n.read_at ? 'read' : 'unread'}>
                <div className="alert-title">
                  {n.run_id ? (
                    <Link
                      to={`/runs/${n.run_id}`}
                      onClick={() => {
                        setOpen(false);
                        if (!n.read_at) void markRead([n.id]);
                      }}
                    >
                      {n.title}
                    </Link>
                  ) : (
                    n.title
                  )}
                </div>
                <div className="alert-meta">
                  <span>
                    <Time iso={n.created_at} />
                  </span>
                  {!n.read_at ? (
                    <button
                      type="button"
                      className="link-button"
                      aria-label={`Mark read: ${n.title}`}
                      onClick={() => void markRead([n.id])}
                    >
                      Mark read
                    </button>
                  ) : null}
                </div>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}
