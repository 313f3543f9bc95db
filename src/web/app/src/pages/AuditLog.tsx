// The audit log: who did what, when and why; filtered by date range, actor and action, with each
// actor named as people know them and each target linked to its page.
import { useState } from 'react';
import { client, ok } from '../api.ts';
import { Time } from '../components/Time.tsx';
import { DateTimeField, Empty, ErrorNote, Field, InlineSubmit, JsonView, Loading } from '../components/ui.tsx';
import { useApi } from '../hooks.ts';
import { Link, navigate, useLocation, withParams } from '../router.tsx';
import { FIRST_PAGE, KeysetPager, usePageCursor } from '../components/KeysetPager.tsx';

const RECORD_KINDS: Record<string, string> = {
  sub: 'subscription',
  inv: 'invoice',
  pay: 'payment',
  re: 'refund',
  cb: 'chargeback',
};

/** Where an audit target lives in the UI, when it has a page. */
export function targetPath(target: string): string | null {
  if (target.startsWith('user:')) return '/settings/users';
  if (target.startsWith('api_key:')) return '/settings/api-keys';
  const prefix = target.slice(0, target.indexOf('_'));
  if (prefix === 'run') return `/runs/${target}`;
  if (prefix === 'cus') return `/customers/${target}`;
  if (prefix === 'op') return `/bulk-restart?operation=${target}`;
  const kind = RECORD_KINDS[prefix];
  return kind ? `/records/${kind}/${target}` : null;
}

export function AuditTab() {
  const loc = useLocation();
  const { cursor } = usePageCursor();
  const filter = {
    actor: loc.search.get('actor') ?? '',
    action: loc.search.get('action') ?? '',
    target: loc.search.get('target') ?? '',
    from: loc.search.get('from') ?? '',
    to: loc.search.get('to') ?? '',
  };
  const query = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== ''));
  const list = useApi(`audit:${JSON.stringify(query)}:${cursor}`, () =>
    ok(client.GET('/api/v1/audit', { params: { query: { ...query, cursor: cursor || undefined, limit: 50 } } })),
  );
  const facets = useApi('audit-facets', () => ok(client.GET('/api/v1/audit/facets')));
  const [draft, setDraft] = useState(filter);
  const set = (patch: Partial<typeof filter>) => setDraft({ ...draft, ...patch });
  const actors = facets.data?.actors ?? [];
  const actions = facets.data?.actions ?? [];
  return (
    <section className="card" aria-label="Audit log">
      <h2>Audit log</h2>
      <form
        className="filters"
        aria-label="Audit filters"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(
            withParams(loc, {
              actor: draft.actor || null,
              action: draft.action || null,
              target: draft.target.trim() || null,
              from: draft.from || null,
              to: draft.to || null,
              ...FIRST_PAGE,
            }),
          );
        }}
      >
        <Field label="Actor">
          {(id) => (
            <select id={id} value={draft.actor} onChange={(e) => set({ actor: e.target.value })}>
              <option value="">Anyone</option>
              {draft.actor && !actors.some((a) => a.actor === draft.actor) ? (
                <option value={draft.actor}>{draft.actor}</option>
              ) : null}
              {actors.map((a) => (
                <option key={a.actor} value={a.actor}>
                  {a.actor_name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Action">
          {(id) => (
            <select id={id} value={draft.action} onChange={(e) => set({ action: e.target.value })}>
              <option value="">Any action</option>
              {draft.action && !actions.some((a) => a.action === draft.action) ? (
                <option value={draft.action}>{draft.action}</option>
              ) : null}
              {actions.map((a) => (
                <option key={a.action} value={a.action}>
                  {a.action} ({a.count})
                </option>
              ))}
            </select>
          )}
        </Field>
        <DateTimeField label="From" value={draft.from || null} onChange={(iso) => set({ from: iso ?? '' })} />
        <DateTimeField label="Until" value={draft.to || null} onChange={(iso) => set({ to: iso ?? '' })} />
        <Field label="Target">
          {(id) => <input id={id} value={draft.target} onChange={(e) => set({ target: e.target.value })} />}
        </Field>
        <InlineSubmit>Filter</InlineSubmit>
        {Object.keys(query).length > 0 ? (
          <Link
            className="clear"
            to={withParams(loc, {
              actor: null,
              action: null,
              target: null,
              from: null,
              to: null,
              ...FIRST_PAGE,
            })}
            onClick={() => setDraft({ actor: '', action: '', target: '', from: '', to: '' })}
          >
            Clear filters
          </Link>
        ) : null}
      </form>
      <ErrorNote error={list.error ?? facets.error} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && list.data.items.length === 0 ? <Empty>No entries match.</Empty> : null}
      {list.data && list.data.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit entries">
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Reason</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((a) => {
                const path = a.target ? targetPath(a.target) : null;
                return (
                  <tr key={a.id} data-audit-id={a.id}>
                    <td>
                      <Time iso={a.at} />
                    </td>
                    <td title={a.actor}>{a.actor_name}</td>
                    <td className="mono small">{a.action}</td>
                    <td className="mono small">
                      {a.target && path ? <Link to={path}>{a.target}</Link> : (a.target ?? '—')}
                    </td>
                    <td>
                      {a.reason ?? '—'}
                      {a.details && Object.keys(a.details).length > 0 ? (
                        <details>
                          <summary className="small">details</summary>
                          <JsonView value={a.details} />
                        </details>
                      ) : null}
                    </td>
                    <td className="small">{a.source_ip ?? '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.data ? <KeysetPager nextCursor={list.data.next_cursor} /> : null}
    </section>
  );
}
