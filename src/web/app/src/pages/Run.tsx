// One run: its pinned steps as a timeline, operator actions with a reason, the audit trail.
import { useEffect, useState } from 'react';
import { client, ok } from '../api.ts';
import { useCan } from '../auth.tsx';
import { RunStatus, RunStep } from '../components/RunBits.tsx';
import { Empty, ErrorNote, Loading, PageHeader } from '../components/ui.tsx';
import { JsonBlock } from '../components/JsonBlock.tsx';
import { Waterfall } from './run/Waterfall.tsx';
import { humanize } from '../format.ts';
import { useApi, useWorkflowTypes } from '../hooks.ts';
import { Link } from '../router.tsx';
import { ACTION_LABELS, ActionDialog, allowed } from './run/RunActions.tsx';
import type { ActionKind } from './run/RunActions.tsx';
import { StepItem } from './run/Steps.tsx';
import { RunWebhooks } from './run/RunWebhooks.tsx';
import { Time } from '../components/Time.tsx';

/** The UI path for a record link the API gives as `/api/v1/<collection>/<id>`. */
export function recordPath(kind: string, apiPath: string): string {
  const id = apiPath.split('/').pop() ?? '';
  return kind === 'customer' ? `/customers/${id}` : `/records/${kind}/${id}`;
}

export function RunPage({ id }: { id: string }) {
  const can = useCan();
  const { label } = useWorkflowTypes();
  const run = useApi(`run:${id}`, () => ok(client.GET('/api/v1/workflows/{id}', { params: { path: { id } } })), 3000);
  const [action, setAction] = useState<ActionKind | null>(null);
  // When the shown data arrived: the "last updated" of a page that polls.
  const [loadedAt, setLoadedAt] = useState(() => Date.now());
  useEffect(() => setLoadedAt(Date.now()), [run.data]);
  if (run.loading && !run.data) return <Loading />;
  if (!run.data) return <ErrorNote error={run.error} />;
  const r = run.data;
  const typeLabel = label(r.type);
  const live = r.status === 'pending' || r.status === 'in_progress';
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to={`/workflows/${r.type}`}>{typeLabel}</Link> / <span className="mono">{r.id}</span>
      </nav>
      <PageHeader
        title={
          <>
            {typeLabel} <RunStatus run={r} />
          </>
        }
      >
        {can('account_manager')
          ? allowed(r).map((a) => (
              <button
                key={a}
                type="button"
                className={a === 'restart' ? 'primary' : a === 'cancel' ? 'danger-outline' : ''}
                onClick={() => setAction(a)}
              >
                {ACTION_LABELS[a]}
              </button>
            ))
          : null}
      </PageHeader>
      <ErrorNote error={run.error} />
      <section className="card run-summary" aria-label="Run summary">
        <div className="run-state">
          <RunStep run={r} />
        </div>
        <p className="muted small" aria-live="off">
          Last updated <Time iso={new Date(loadedAt).toISOString()} />
          {live ? ' · this page follows the run every 3 seconds' : ''}
        </p>
        <dl className="kv grid">
          <dt>Run</dt>
          <dd className="mono">{r.id}</dd>
          <dt>Created</dt>
          <dd>
            <Time iso={r.created_at} />
          </dd>
          <dt>Updated</dt>
          <dd>
            <Time iso={r.updated_at} />
          </dd>
          <dt>Finished</dt>
          <dd>
            <Time iso={r.finished_at} />
          </dd>
          <dt>Progress</dt>
          <dd>
            step {Math.min(r.step_index + 1, r.step_count)} of {r.step_count}
          </dd>
          <dt>Idempotency key</dt>
          <dd className="mono">{r.idempotency_key ?? '—'}</dd>
          <dt>Records</dt>
          <dd>
            {Object.entries(r.links).length === 0 ? '—' : null}
            {Object.entries(r.links).map(([kind, path]) => (
              <Link key={kind} to={recordPath(kind, path)} className="chip">
                {humanize(kind)} {path.split('/').pop()}
              </Link>
            ))}
          </dd>
        </dl>
      </section>

      <Waterfall run={r} now={loadedAt} />

      <section aria-label="Steps">
        <h2>Steps</h2>
        <ol className="timeline">
          {r.steps.map((s) => (
            <StepItem key={s.index} step={s} run={r} />
          ))}
        </ol>
      </section>

      <RunWebhooks runId={r.id} />

      <section aria-label="Audit trail" className="card">
        <h2>Audit trail</h2>
        {r.events.length === 0 && r.audit.length === 0 ? <Empty>No operator action on this run yet.</Empty> : null}
        {r.audit.length > 0 ? (
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {r.audit.map((a) => (
                <tr key={a.id}>
                  <td>
                    <Time iso={a.at} />
                  </td>
                  <td>{a.actor_name}</td>
                  <td>{a.action}</td>
                  <td>{a.reason ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : r.events.length > 0 ? (
          <ul className="plain">
            {r.events.map((e) => (
              <li key={e.id}>
                <Time iso={e.created_at} /> · {e.actor_name} · {humanize(e.action)} {e.reason ? `— ${e.reason}` : ''}
              </li>
            ))}
          </ul>
        ) : null}
      </section>

      <section className="card" aria-label="Input">
        <JsonBlock title="Run input" value={r.input} />
      </section>

      {action ? (
        <ActionDialog run={r} action={action} onClose={() => setAction(null)} onDone={() => void run.reload()} />
      ) : null}
    </>
  );
}
