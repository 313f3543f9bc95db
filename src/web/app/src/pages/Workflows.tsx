// The runs of one workflow type: filters in the URL, keyset paging, live refresh.
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { client, ok } from '../api.ts';
import { FIRST_PAGE, KeysetPager, usePageCursor } from '../components/KeysetPager.tsx';
import { RunTable } from '../components/RunTable.tsx';
import { Empty, ErrorNote, Field, Loading, PageHeader, DateTimeField } from '../components/ui.tsx';
import { useCan } from '../auth.tsx';
import { useApi, useWorkflowTypes } from '../hooks.ts';
import { Link, navigate, useLocation, withParams } from '../router.tsx';
import { RUN_STATUSES, RUN_STATUS_LABELS, isRunStatus } from '../types.ts';

const POLL_MS = 3000;

export function WorkflowListPage({ type }: { type: string }) {
  const can = useCan();
  const loc = useLocation();
  const q = loc.search;
  const status = q.get('status') ?? '';
  const failedStep = q.get('failed_step') ?? '';
  const from = q.get('from') ?? '';
  const to = q.get('to') ?? '';
  const email = q.get('email') ?? '';
  const { cursor } = usePageCursor();

  const key = JSON.stringify([type, status, failedStep, from, to, email, cursor]);
  const { find, types, error } = useWorkflowTypes();
  const info = find(type);
  const runs = useApi(
    key,
    () =>
      ok(
        client.GET('/api/v1/workflows', {
          params: {
            query: {
              type,
              status: failedStep ? 'failed' : isRunStatus(status) ? status : undefined,
              failed_step: failedStep,
              created_after: from,
              created_before: to,
              customer_email: email,
              cursor,
              limit: 25,
            },
          },
        }),
      ),
    POLL_MS,
  );

  const [draftEmail, setDraftEmail] = useState(email);
  useEffect(() => setDraftEmail(email), [email]);

  if (!info) {
    if (!types) return error ? <ErrorNote error={error} /> : <Loading />;
    return <Empty>Unknown workflow type “{type}”.</Empty>;
  }
  const setFilter = (changes: Record<string, string | null>) =>
    navigate(withParams(loc, { ...changes, ...FIRST_PAGE }), { replace: true });

  const title = info.label;
  const items = runs.data?.items ?? [];
  return (
    <>
      <PageHeader title={title}>
        <Link className="button" to={`/bulk-restart?type=${type}${failedStep ? `&failed_step=${failedStep}` : ''}`}>
          Bulk restart…
        </Link>
        {can('developer') ? (
          <Link className="button" to={`/workflow-types/${type}/steps`}>
            Edit steps
          </Link>
        ) : null}
      </PageHeader>
      <p className="muted small">
        <code>{type}</code> · {info.steps.join(' → ')}
      </p>
      <form
        className="filters card"
        aria-label="Filters"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setFilter({ email: draftEmail.trim() || null });
        }}
      >
        <Field label="Status">
          {(id) => (
            <select
              id={id}
              value={failedStep ? 'failed' : status}
              onChange={(e) => setFilter({ status: e.target.value || null, failed_step: null })}
            >
              <option value="">Any status</option>
              {RUN_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {RUN_STATUS_LABELS[s]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Failed step">
          {(id) => (
            <select
              id={id}
              value={failedStep}
              onChange={(e) =>
                setFilter({ failed_step: e.target.value || null, status: e.target.value ? 'failed' : status || null })
              }
            >
              <option value="">Any step</option>
              {info.steps.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
        <DateTimeField label="Created after" value={from || null} onChange={(iso) => setFilter({ from: iso })} />
        <DateTimeField label="Created before" value={to || null} onChange={(iso) => setFilter({ to: iso })} />
        <Field label="Customer email">
          {(id) => (
            <div className="input-row">
              <input
                id={id}
                type="search"
                placeholder="name@example.com"
                value={draftEmail}
                onChange={(e) => setDraftEmail(e.target.value)}
              />
              <button type="submit">Search</button>
            </div>
          )}
        </Field>
        {status || failedStep || from || to || email ? (
          <button
            type="button"
            className="link-button clear"
            onClick={() => setFilter({ status: null, failed_step: null, from: null, to: null, email: null })}
          >
            Clear filters
          </button>
        ) : null}
      </form>

      <ErrorNote error={runs.error} />
      {runs.loading && !runs.data ? <Loading /> : null}
      {runs.data && items.length === 0 ? (
        <Empty>
          {status || failedStep || from || to || email
            ? 'No runs match these filters.'
            : `No ${title.toLowerCase()} runs yet.`}
        </Empty>
      ) : null}
      {items.length > 0 ? <RunTable runs={items} label={`${title} runs`} /> : null}
      {runs.data ? <KeysetPager nextCursor={runs.data.next_cursor} /> : null}
    </>
  );
}
