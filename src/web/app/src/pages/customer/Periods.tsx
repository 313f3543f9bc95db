// A subscription's billing periods on the customer page: each period with its kind, its charge,
// its invoice and payment, and the runs about them.
import { client, ok } from '../../api.ts';
import { useCan } from '../../auth.tsx';
import { Empty, ErrorNote, Loading, StatusBadge } from '../../components/ui.tsx';
import { humanize, money } from '../../format.ts';
import { useApi, useWorkflowTypes } from '../../hooks.ts';
import { Link } from '../../router.tsx';
import { Time } from '../../components/Time.tsx';

const KIND_LABELS: Record<string, string> = {
  trial: 'Trial',
  initial: 'First period',
  trial_conversion: 'After the trial',
  renewal: 'Renewal',
};

export function SubscriptionPeriods({ subscriptionId }: { subscriptionId: string }) {
  const can = useCan();
  const { label } = useWorkflowTypes();
  const periods = useApi(
    `periods:${subscriptionId}`,
    () => ok(client.GET('/api/v1/subscriptions/{id}/periods', { params: { path: { id: subscriptionId } } })),
    10_000,
  );
  const title = `Billing periods of ${subscriptionId}`;
  return (
    <section className="card" aria-label={title}>
      <h2>
        Billing periods of <span className="mono">{subscriptionId}</span>
      </h2>
      <ErrorNote error={periods.error} />
      {periods.loading && !periods.data ? <Loading /> : null}
      {periods.data && periods.data.items.length === 0 ? <Empty>No periods.</Empty> : null}
      {periods.data && periods.data.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0}>
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Period</th>
                <th scope="col">Kind</th>
                <th scope="col">Amount</th>
                <th scope="col">Charge</th>
                <th scope="col">Invoice</th>
                <th scope="col">Payment</th>
                <th scope="col">Runs</th>
              </tr>
            </thead>
            <tbody>
              {periods.data.items.map((p) => (
                <tr key={p.period_start}>
                  <td>
                    <Time iso={p.period_start} /> – <Time iso={p.period_end} />
                    {p.current ? (
                      <>
                        {' '}
                        <span className="badge badge-info">current</span>
                      </>
                    ) : null}
                  </td>
                  <td>{KIND_LABELS[p.kind] ?? humanize(p.kind)}</td>
                  <td>{money(p.amount, p.currency)}</td>
                  <td title={p.charge_detail ?? undefined}>
                    {p.charge_status ? <StatusBadge status={p.charge_status} /> : '—'}
                    {p.charge_detail ? <div className="small muted">{p.charge_detail}</div> : null}
                  </td>
                  <td>
                    {p.invoice ? (
                      <>
                        <Link to={`/records/invoice/${p.invoice.id}`}>{p.invoice.number}</Link>{' '}
                        <StatusBadge status={p.invoice.status} />
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    {p.payment_id ? (
                      <Link to={`/records/payment/${p.payment_id}`} className="mono">
                        {p.payment_id}
                      </Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    {p.runs.length === 0
                      ? '—'
                      : p.runs.map((r) => (
                          <div key={r.id}>
                            {can('account_manager') ? (
                              <Link to={`/runs/${r.id}`}>{label(r.type)}</Link>
                            ) : (
                              <span>{label(r.type)}</span>
                            )}{' '}
                            <StatusBadge status={r.status} />
                          </div>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
