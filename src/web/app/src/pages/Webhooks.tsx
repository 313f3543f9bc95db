// Event webhooks (developer+): endpoints, their secrets (shown once), deliveries and attempts.
import { useState } from 'react';
import { client, newIdempotencyKey, ok } from '../api.ts';
import { ConfirmDialog } from '../components/Confirm.tsx';
import { Dialog, Empty, ErrorNote, InlineSubmit, StatusBadge, TextField } from '../components/ui.tsx';
import { useAction, useApi } from '../hooks.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../types.ts';
import { Time } from '../components/Time.tsx';

export function WebhooksTab() {
  const list = useApi('webhook-endpoints', () => ok(client.GET('/api/v1/webhook-endpoints')));
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState('');
  const [secret, setSecret] = useState<{ url: string; secret: string | null }>();
  const [deleting, setDeleting] = useState<WebhookEndpoint>();
  const [open, setOpen] = useState<string>();
  const add = useAction(async () => {
    const eventTypes = types
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const r = await ok(
      client.POST('/api/v1/webhook-endpoints', {
        body: {
          url,
          description,
          ...(eventTypes.length > 0 ? { event_types: eventTypes as WebhookEndpoint['event_types'] } : {}),
        },
        params: { header: { 'idempotency-key': newIdempotencyKey() } },
      }),
    );
    setSecret({ url: r.endpoint.url, secret: r.secret });
    setUrl('');
    setDescription('');
    setTypes('');
    await list.reload();
    return true;
  });
  const change = useAction(async (id: string, action: 'enable' | 'disable' | 'rotate' | 'delete') => {
    const path = { id };
    if (action === 'delete') await ok(client.DELETE('/api/v1/webhook-endpoints/{id}', { params: { path } }));
    else if (action === 'rotate') {
      const r = await ok(
        client.POST('/api/v1/webhook-endpoints/{id}/rotate-secret', {
          params: { path, header: { 'idempotency-key': newIdempotencyKey() } },
        }),
      );
      setSecret({ url: r.endpoint.url, secret: r.secret });
    } else {
      await ok(
        client.PATCH('/api/v1/webhook-endpoints/{id}', { params: { path }, body: { enabled: action === 'enable' } }),
      );
    }
    setDeleting(undefined);
    await list.reload();
    return true;
  });
  return (
    <section className="card" aria-label="Event webhooks">
      <h2>Event webhooks</h2>
      <p className="muted">
        Billing events are POSTed to these endpoints, signed per Standard Webhooks and retried for about three days.
      </p>
      <ErrorNote error={list.error ?? (deleting ? undefined : change.error)} />
      {list.data && list.data.items.length === 0 ? <Empty>No webhook endpoint yet.</Empty> : null}
      {list.data && list.data.items.length > 0 ? (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((e) => (
              <tr key={e.id}>
                <td>
                  <div className="mono small">{e.url}</div>
                  {e.description ? <div className="muted small">{e.description}</div> : null}
                </td>
                <td className="small">{e.event_types ? e.event_types.join(', ') : 'All events'}</td>
                <td>
                  <StatusBadge status={e.enabled ? 'completed' : 'failed'} label={e.enabled ? 'Enabled' : 'Disabled'} />
                  {e.disabled_reason ? <div className="muted small">{e.disabled_reason}</div> : null}
                </td>
                <td className="actions">
                  <button type="button" className="small" onClick={() => setOpen(open === e.id ? undefined : e.id)}>
                    Deliveries
                  </button>{' '}
                  <button
                    type="button"
                    className="small"
                    onClick={() => void change.run(e.id, e.enabled ? 'disable' : 'enable')}
                  >
                    {e.enabled ? 'Disable' : 'Enable'}
                  </button>{' '}
                  <button type="button" className="small" onClick={() => void change.run(e.id, 'rotate')}>
                    Rotate secret
                  </button>{' '}
                  <button type="button" className="danger-outline small" onClick={() => setDeleting(e)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {open ? <Deliveries endpointId={open} /> : null}
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
      >
        <TextField
          label="Endpoint URL"
          error={add.error?.fieldError('url')}
          required
          type="url"
          placeholder="https://hooks.example.com/billflow"
          value={url}
          onChange={setUrl}
        />
        <TextField
          label="Description"
          error={add.error?.fieldError('description')}
          value={description}
          onChange={setDescription}
        />
        <TextField
          label="Event types (comma-separated, empty for all)"
          error={add.error?.fieldError('event_types')}
          placeholder="invoice.paid, payment.failed"
          value={types}
          onChange={setTypes}
        />
        <InlineSubmit primary busy={add.busy}>
          Add endpoint
        </InlineSubmit>
      </form>
      <ErrorNote error={add.error} fields={['url', 'description', 'event_types']} />
      <Dialog title="Signing secret" open={!!secret} onClose={() => setSecret(undefined)}>
        <p>
          Copy the signing secret for <strong>{secret?.url}</strong> now: it is shown only this once.
        </p>
        <input
          readOnly
          aria-label="Signing secret"
          className="mono wide"
          value={secret?.secret ?? ''}
          onFocus={(e) => e.target.select()}
        />
        <div className="dialog-actions">
          <button type="button" className="primary" onClick={() => setSecret(undefined)}>
            I have copied it
          </button>
        </div>
      </Dialog>
      <ConfirmDialog
        title="Delete webhook endpoint"
        open={!!deleting}
        confirm="Delete endpoint"
        danger
        busy={change.busy}
        error={change.error}
        onCancel={() => setDeleting(undefined)}
        onConfirm={() => deleting && void change.run(deleting.id, 'delete')}
      >
        <p>
          Events stop going to <strong>{deleting?.url}</strong> and its delivery history is deleted. To pause it
          instead, disable it. Deleting cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function Deliveries({ endpointId }: { endpointId: string }) {
  const path = { id: endpointId };
  const list = useApi(
    `webhook-deliveries:${endpointId}`,
    () => ok(client.GET('/api/v1/webhook-endpoints/{id}/deliveries', { params: { path, query: { limit: 50 } } })),
    5_000,
  );
  const [shown, setShown] = useState<WebhookDelivery>();
  const resend = useAction(async (eventId: string) => {
    await ok(
      client.POST('/api/v1/webhook-endpoints/{id}/deliveries/{event_id}/resend', {
        params: { path: { id: endpointId, event_id: eventId } },
      }),
    );
    await list.reload();
    return true;
  });
  return (
    <section aria-label="Deliveries">
      <h3>Deliveries</h3>
      <ErrorNote error={list.error ?? resend.error} />
      {list.data && list.data.items.length === 0 ? <Empty>No message yet.</Empty> : null}
      {list.data && list.data.items.length > 0 ? (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Message</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((d) => (
              <tr key={d.event_id}>
                <td className="mono small">{d.event_id}</td>
                <td>{d.type}</td>
                <td>
                  <StatusBadge status={d.status === 'delivered' ? 'completed' : d.status} label={d.status} />
                </td>
                <td>
                  <button type="button" className="link" onClick={() => setShown(d)}>
                    {d.attempt_count} attempt{d.attempt_count === 1 ? '' : 's'}
                  </button>
                </td>
                <td className="small">
                  <Time iso={d.created_at} />
                </td>
                <td>
                  <button type="button" className="small" onClick={() => void resend.run(d.event_id)}>
                    Resend
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Dialog title={`Attempts of ${shown?.event_id ?? ''}`} open={!!shown} onClose={() => setShown(undefined)} wide>
        {shown ? <Attempts endpointId={endpointId} eventId={shown.event_id} /> : null}
      </Dialog>
    </section>
  );
}

function Attempts({ endpointId, eventId }: { endpointId: string; eventId: string }) {
  const list = useApi(`webhook-attempts:${endpointId}:${eventId}`, () =>
    ok(
      client.GET('/api/v1/webhook-endpoints/{id}/attempts', {
        params: { path: { id: endpointId }, query: { event_id: eventId, limit: 100 } },
      }),
    ),
  );
  return (
    <>
      <ErrorNote error={list.error} />
      <table className="table compact" aria-label="Attempts">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time</th>
            <th scope="col">Answer</th>
            <th scope="col">Latency</th>
            <th scope="col">Response</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.items ?? []).map((a) => (
            <tr key={a.id}>
              <td>{a.attempt}</td>
              <td className="small">
                <Time iso={a.attempted_at} />
              </td>
              <td>{a.status_code ?? a.error}</td>
              <td>{a.latency_ms} ms</td>
              <td className="mono small">{a.response_body?.slice(0, 200) ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
