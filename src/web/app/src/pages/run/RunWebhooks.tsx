// The webhook messages a run emitted and where each stands per endpoint: an account manager can
// tell a customer's system "it was sent at …" without access to the endpoints' pages.
import { client, ok } from '../../api.ts';
import { ErrorNote } from '../../components/ui.tsx';
import { useApi } from '../../hooks.ts';
import { dateTime } from '../../format.ts';

export function RunWebhooks({ runId }: { runId: string }) {
  const list = useApi(
    `run-webhooks:${runId}`,
    () => ok(client.GET('/api/v1/workflows/{id}/webhook-deliveries', { params: { path: { id: runId } } })),
    5000,
  );
  if (list.error) return <ErrorNote error={list.error} />;
  const items = list.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <section className="card" aria-label="Webhooks">
      <h2>Webhooks</h2>
      <table className="table compact">
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Endpoint</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={`${d.event_id}:${d.endpoint_id}`}>
              <td>
                {d.type} <span className="mono small">{d.event_id}</span>
              </td>
              <td className="mono small">{d.endpoint_origin}</td>
              <td>
                {d.status === 'delivered' && d.delivered_at
                  ? `delivered ${dateTime(d.delivered_at)}`
                  : d.status === 'pending' && d.next_attempt_at
                    ? `pending, next try ${dateTime(d.next_attempt_at)}`
                    : d.status}
              </td>
              <td>{d.attempt_count}</td>
              <td>{d.last_status_code ? `HTTP ${d.last_status_code}` : (d.last_error ?? '—')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
