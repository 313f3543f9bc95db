// Bulk restart: a filter, its dry-run count, a reason, then the operation's progress to the end.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { client, newIdempotencyKey, ok } from '../api.ts';
import { RunTable } from '../components/RunTable.tsx';
import { ErrorNote, Field, PageHeader, DateTimeField } from '../components/ui.tsx';
import { errorText } from '../format.ts';
import { Time } from '../components/Time.tsx';
import { useAction, useApi, useWorkflowTypes } from '../hooks.ts';
import { Link, navigate, useLocation, withParams } from '../router.tsx';

function Progress({ id }: { id: string }) {
  const op = useApi(
    `op:${id}`,
    () => ok(client.GET('/api/v1/workflow-operations/{id}', { params: { path: { id } } })),
    1500,
  );
  const o = op.data;
  if (!o) return <ErrorNote error={op.error} />;
  const done = o.status === 'completed' && (o.in_progress ?? 0) === 0;
  const settled = (o.completed ?? 0) + (o.failed_again?.length ?? 0) + o.skipped;
  const pct = o.matched === 0 ? 100 : Math.round((Math.min(settled, o.matched) / o.matched) * 100);
  return (
    <section className="card" aria-label="Progress">
      <h2>{o.name}</h2>
      <p className="small">
        Started by <strong>{o.actor_name ?? o.actor ?? 'unknown'}</strong> at <Time iso={o.created_at} />
        {o.reason ? <>: “{o.reason}”</> : null}
      </p>
      <div
        className="progress"
        role="progressbar"
        aria-label="Bulk restart progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
      >
        <div className="progress-bar" style={{ width: `${pct}%` }} />
      </div>
      <dl className="kv grid">
        <dt>Matched</dt>
        <dd>{o.matched}</dd>
        <dt>Restarted</dt>
        <dd>{o.restarted}</dd>
        <dt>Skipped (no longer failed)</dt>
        <dd>{o.skipped}</dd>
        <dt>Still running</dt>
        <dd>{o.in_progress ?? 0}</dd>
        <dt>Completed</dt>
        <dd>{o.completed ?? 0}</dd>
        <dt>Failed again</dt>
        <dd>{o.failed_again?.length ?? 0}</dd>
      </dl>
      <p role="status" className={done ? 'text-ok' : 'muted'}>
        {done
          ? `Finished: ${o.completed ?? 0} completed, ${o.failed_again?.length ?? 0} failed again.`
          : 'Working… this page follows the operation until every restarted run settles.'}
      </p>
      {o.failed_again && o.failed_again.length > 0 ? (
        <>
          <h3>Failed again</h3>
          <ul className="plain">
            {o.failed_again.map((f) => (
              <li key={f.run_id}>
                <Link to={`/runs/${f.run_id}`} className="mono">
                  {f.run_id}
                </Link>{' '}
                at {f.failed_step ?? '?'} <span className="muted">{errorText(f.error)}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

export function BulkRestartPage() {
  const loc = useLocation();
  const type = loc.search.get('type') ?? '';
  const failedStep = loc.search.get('failed_step') ?? '';
  const from = loc.search.get('from') ?? '';
  const to = loc.search.get('to') ?? '';
  const operation = loc.search.get('operation');
  // Permanent failures (a declined card, invalid input) fail the same way again: left out unless asked.
  const includePermanent = loc.search.get('permanent') === 'include';
  const [reason, setReason] = useState('');
  const [name, setName] = useState('');
  const filter = {
    type: type || undefined,
    failed_step: failedStep || undefined,
    created_after: from || undefined,
    created_before: to || undefined,
    ...(includePermanent ? { include_permanent: true } : {}),
  };
  const { types, find } = useWorkflowTypes();
  const dry = useApi(operation ? null : `dry:${JSON.stringify(filter)}`, () =>
    ok(
      client.POST('/api/v1/workflows/bulk-restart', {
        body: { filter, dry_run: true, reason: 'dry run (count only)' },
      }),
    ),
  );
  const start = useAction(() =>
    ok(
      client.POST('/api/v1/workflows/bulk-restart', {
        body: { filter, dry_run: false, reason, ...(name.trim() ? { name: name.trim() } : {}) },
        headers: { 'idempotency-key': newIdempotencyKey() },
      }),
    ),
  );
  // The steps of the chosen type, or of every type.
  const steps = find(type)?.steps ?? [...new Set((types ?? []).flatMap((t) => t.steps))];
  const set = (changes: Record<string, string | null>) => navigate(withParams(loc, changes), { replace: true });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const answer = await start.run();
    if (answer?.operation_id) navigate(withParams(loc, { operation: answer.operation_id }));
  };
  if (operation) {
    return (
      <>
        <PageHeader title="Bulk restart">
          <Link className="button" to="/bulk-restart">
            New bulk restart
          </Link>
        </PageHeader>
        <Progress id={operation} />
      </>
    );
  }
  const matched = dry.data?.matched;
  const leftOut = dry.data?.permanent_excluded ?? 0;
  const preview = dry.data?.runs ?? [];
  return (
    <>
      <PageHeader title="Bulk restart" />
      <p className="muted">
        Restarts every failed run that matches, each from its failed step, in throttled batches. Completed steps never
        run again.
      </p>
      <form className="card stack" onSubmit={(e) => void submit(e)}>
        <h2>1. Choose the failed runs</h2>
        <div className="filters">
          <Field label="Workflow type">
            {(id) => (
              <select id={id} value={type} onChange={(e) => set({ type: e.target.value || null, failed_step: null })}>
                <option value="">All types</option>
                {types?.map((t) => (
                  <option key={t.type} value={t.type}>
                    {t.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Failed step">
            {(id) => (
              <select id={id} value={failedStep} onChange={(e) => set({ failed_step: e.target.value || null })}>
                <option value="">Any step</option>
                {steps.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <DateTimeField label="Created after" value={from || null} onChange={(iso) => set({ from: iso })} />
          <DateTimeField label="Created before" value={to || null} onChange={(iso) => set({ to: iso })} />
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={includePermanent}
            onChange={(e) => set({ permanent: e.target.checked ? 'include' : null })}
          />{' '}
          Include runs that failed with a permanent error (they fail the same way again unless the cause was fixed)
        </label>
        <h2>2. Check the count</h2>
        <ErrorNote error={dry.error} />
        <p role="status" className="dry-count">
          {dry.loading
            ? 'Counting…'
            : matched === undefined
              ? ''
              : matched === 1
                ? '1 failed run matches.'
                : `${matched} failed runs match.`}
          {!dry.loading && leftOut > 0
            ? ` ${leftOut} more failed with a permanent error and ${leftOut === 1 ? 'is' : 'are'} left out.`
            : ''}
        </p>
        {preview.length > 0 ? (
          <>
            <p className="muted">
              {matched !== undefined && matched > preview.length
                ? `The newest ${preview.length} of them:`
                : 'They are:'}
            </p>
            <RunTable runs={preview} label="Runs to restart" showType failed />
          </>
        ) : null}
        <h2>3. Say why</h2>
        <ErrorNote error={start.error} />
        <Field label="Reason" hint="Recorded in the audit log." error={start.error?.fieldError('reason')}>
          {(id, d) => (
            <textarea
              id={id}
              aria-describedby={d}
              rows={2}
              required
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          )}
        </Field>
        <Field label="Name (optional)">
          {(id) => (
            <input
              id={id}
              value={name}
              placeholder="e.g. SMTP outage 25 Nov"
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <div>
          <button type="submit" className="primary" disabled={start.busy || !reason.trim() || !matched}>
            {matched ? `Restart ${matched} ${matched === 1 ? 'run' : 'runs'}` : 'Restart'}
          </button>
        </div>
      </form>
    </>
  );
}
