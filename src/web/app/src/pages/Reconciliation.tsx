// "Did we lose anything?": the reconciliation report — checked when the page opens or when asked
// again — with each finding's objects linked, and the workers' last daily report.
import { client, ok } from '../api.ts';
import type { components } from '../api/schema';
import { ErrorNote, Loading, PageHeader } from '../components/ui.tsx';
import { useApi } from '../hooks.ts';
import { Link } from '../router.tsx';
import { Time } from '../components/Time.tsx';
import { dateTime } from '../format.ts';

type Report = components['schemas']['ReconciliationReport'];
type Check = components['schemas']['ReconciliationCheck'];
type ReconciliationObject = components['schemas']['ReconciliationObject'];

function ObjectLink({ object }: { object: ReconciliationObject }) {
  const label = (
    <>
      {object.kind.replace('_', ' ')} <span className="mono">{object.id}</span>
    </>
  );
  if (!object.url) return label;
  if (object.url.startsWith('/')) return <Link to={object.url}>{label}</Link>;
  return (
    <a href={object.url} target="_blank" rel="noreferrer">
      {label}
    </a>
  );
}

function CheckCard({ check }: { check: Check }) {
  return (
    <section className="card stack" aria-label={check.title} data-check={check.name}>
      <h2>
        {check.ok ? '✓' : '✗'} {check.title}{' '}
        <span className={check.ok ? 'badge badge-ok' : 'badge badge-bad'}>
          {check.ok ? 'ok' : `${check.finding_count} found`}
        </span>
      </h2>
      {check.note ? <p className="muted">{check.note}</p> : null}
      {check.findings.length > 0 ? (
        <ul>
          {check.findings.map((f, i) => (
            <li key={i}>
              <div>{f.message}</div>
              <div className="small">
                {f.objects.map((o, j) => (
                  <span key={`${o.kind}:${o.id}`}>
                    {j > 0 ? ' · ' : null}
                    <ObjectLink object={o} />
                  </span>
                ))}
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      {check.findings.length < check.finding_count ? (
        <p className="muted">… and {check.finding_count - check.findings.length} more (the API lists the same).</p>
      ) : null}
    </section>
  );
}

function Summary({ report }: { report: Report }) {
  return (
    <div className={report.ok ? 'note note-ok' : 'note note-error'} role="status">
      {report.ok
        ? 'Nothing lost: every check passed.'
        : `${report.finding_count} finding${report.finding_count === 1 ? '' : 's'}.`}{' '}
      <span className="muted small">
        Checked <Time iso={report.checked_at} />.
      </span>
    </div>
  );
}

export function ReconciliationPage() {
  const loaded = useApi('reconciliation', () => ok(client.GET('/api/v1/reconciliation')));
  const data = loaded.data;
  return (
    <>
      <PageHeader title="Reconciliation">
        <button type="button" className="button" disabled={loaded.loading} onClick={() => void loaded.reload()}>
          {loaded.loading ? 'Checking…' : 'Check again'}
        </button>
      </PageHeader>
      <p className="muted">
        Did we lose anything? Every billing record has its run, every Stripe event was handled or set aside with a
        reason, the statistics equal a recount, no run is stuck past its lease, and the payment provider agrees about
        which subscriptions are live. The workers run this check every day and raise an alert when it finds something.
      </p>
      <ErrorNote error={loaded.error} />
      {!data ? (
        loaded.loading ? (
          <Loading label="Checking…" />
        ) : null
      ) : (
        <div className="stack">
          <Summary report={data.report} />
          {data.report.checks.map((c) => (
            <CheckCard key={c.name} check={c} />
          ))}
          <p className="muted small">
            {data.last_daily
              ? `Last daily check: ${dateTime(data.last_daily.checked_at)}, ${
                  data.last_daily.ok ? 'nothing found' : `${data.last_daily.finding_count} found`
                }.`
              : 'No daily check has finished yet.'}
          </p>
        </div>
      )}
    </>
  );
}
