// Settings: one tab per area, each shown only to the roles the server lets in.
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { client, ok } from '../api.ts';
import { useCan } from '../auth.tsx';
import { ConfirmDialog } from '../components/Confirm.tsx';
import { Empty, ErrorNote, Field, Loading, PageHeader, TextField, InlineSubmit } from '../components/ui.tsx';
import { humanize } from '../format.ts';
import { useAction, useApi } from '../hooks.ts';
import { Link } from '../router.tsx';
import type { BodyOf, NotificationSettings, Role, SlackEndpoint } from '../types.ts';
import { ApiKeysTab, UsersTab } from './Team.tsx';
import { OutboxTab } from './Logs.tsx';
import { AuditTab } from './AuditLog.tsx';
import { TemplatesTab } from './Templates.tsx';
import { WebhooksTab } from './Webhooks.tsx';
import { CustomStepsTab } from './CustomSteps.tsx';
import { Time } from '../components/Time.tsx';

const TABS: { id: string; label: string; min: Role }[] = [
  { id: 'notifications', label: 'Notifications', min: 'account_manager' },
  { id: 'templates', label: 'Templates', min: 'account_manager' },
  { id: 'slack', label: 'Slack', min: 'developer' },
  { id: 'webhooks', label: 'Webhooks', min: 'developer' },
  { id: 'steps', label: 'Workflow steps', min: 'developer' },
  { id: 'users', label: 'Users', min: 'admin' },
  { id: 'api-keys', label: 'API keys', min: 'developer' },
  { id: 'outbox', label: 'Email outbox', min: 'customer_support' },
  { id: 'audit', label: 'Audit log', min: 'admin' },
];

export function SettingsPage({ tab }: { tab: string }) {
  const can = useCan();
  const tabs = TABS.filter((t) => can(t.min));
  const current = tabs.find((t) => t.id === tab) ?? tabs[0];
  return (
    <>
      <PageHeader title="Settings" />
      {tabs.length === 0 ? (
        <Empty>
          Nothing to configure with your role. You can <Link to="/account">change your password</Link>.
        </Empty>
      ) : (
        <>
          <nav className="tabs" aria-label="Settings sections">
            {tabs.map((t) => (
              <Link
                key={t.id}
                to={`/settings/${t.id}`}
                className={t === current ? 'tab active' : 'tab'}
                aria-current={t === current ? 'page' : undefined}
              >
                {t.label}
              </Link>
            ))}
          </nav>
          {current?.id === 'notifications' ? <NotificationsTab /> : null}
          {current?.id === 'templates' ? <TemplatesTab /> : null}
          {current?.id === 'slack' ? <SlackTab /> : null}
          {current?.id === 'webhooks' ? <WebhooksTab /> : null}
          {current?.id === 'steps' ? <CustomStepsTab /> : null}
          {current?.id === 'users' ? <UsersTab /> : null}
          {current?.id === 'api-keys' ? <ApiKeysTab /> : null}
          {current?.id === 'outbox' ? <OutboxTab /> : null}
          {current?.id === 'audit' ? <AuditTab /> : null}
        </>
      )}
    </>
  );
}

function EventRow({ s: saved, onSaved }: { s: NotificationSettings; onSaved: () => void }) {
  // Toggles show their new state at once; a refused change puts the saved one back.
  const [s, setLocal] = useState(saved);
  useEffect(() => setLocal(saved), [saved]);
  const [emails, setEmails] = useState(saved.team_emails.join(', '));
  const save = useAction(async (patch: BodyOf<'updateNotificationSettings'>) => {
    setLocal((prev) => ({ ...prev, ...patch }));
    try {
      const path = { event: saved.event };
      await ok(client.PATCH('/api/v1/notification-settings/{event}', { params: { path }, body: patch }));
    } catch (error) {
      setLocal(saved);
      throw error;
    }
    onSaved();
    return true;
  });
  const reset = useAction(async () => {
    await ok(client.POST('/api/v1/notification-settings/{event}/reset', { params: { path: { event: s.event } } }));
    onSaved();
    return true;
  });
  const toggle = (key: 'customer_email' | 'slack' | 'in_app' | 'team_email', label: string) => (
    <label className="check">
      <input
        type="checkbox"
        checked={s[key]}
        disabled={save.busy}
        onChange={(e) => void save.run({ [key]: e.target.checked })}
        aria-label={`${label} for ${humanize(s.event)}`}
      />
      <span aria-hidden="true">{label}</span>
    </label>
  );
  return (
    <tr>
      <th scope="row">
        {humanize(s.event)}
        {s.customized ? <span className="muted small block">customized</span> : null}
      </th>
      <td>{toggle('customer_email', 'Customer email')}</td>
      <td>{toggle('in_app', 'In-app')}</td>
      <td>{toggle('slack', 'Slack')}</td>
      <td>{toggle('team_email', 'Team email')}</td>
      <td>
        <form
          className="input-row"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void save.run({ team_emails: emails.split(/[\s,;]+/).filter(Boolean) });
          }}
        >
          <input
            aria-label={`Team addresses for ${humanize(s.event)}`}
            value={emails}
            placeholder="finance@example.com"
            onChange={(e) => setEmails(e.target.value)}
          />
          <button type="submit" disabled={save.busy}>
            Save
          </button>
        </form>
        <ErrorNote error={save.error ?? reset.error} />
      </td>
      <td>
        {s.customized ? (
          <button type="button" className="link-button" onClick={() => void reset.run()}>
            Reset
          </button>
        ) : null}
      </td>
    </tr>
  );
}

function NotificationsTab() {
  const list = useApi('notification-settings', () => ok(client.GET('/api/v1/notification-settings')));
  return (
    <section className="card" aria-label="Notification settings">
      <h2>Notifications per event</h2>
      <p className="muted">Whether the customer gets an email, and which internal channels hear about each event.</p>
      <ErrorNote error={list.error} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data ? (
        <div className="table-wrap" tabIndex={0}>
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Customer email</th>
                <th scope="col">In-app</th>
                <th scope="col">Slack</th>
                <th scope="col">Team email</th>
                <th scope="col">Team addresses</th>
                <th scope="col">
                  <span className="sr-only">Reset</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((s) => (
                <EventRow key={s.event} s={s} onSaved={() => void list.reload()} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function SlackTab() {
  const list = useApi('slack', () => ok(client.GET('/api/v1/slack-endpoints')));
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const add = useAction(async () => {
    await ok(client.POST('/api/v1/slack-endpoints', { body: { name, url } }));
    setName('');
    setUrl('');
    await list.reload();
    return true;
  });
  const [deleting, setDeleting] = useState<SlackEndpoint>();
  const [tested, setTested] = useState<{ name: string; text: string; delivered: boolean }>();
  const test = useAction(async (e: SlackEndpoint) => {
    setTested(undefined);
    const r = await ok(client.POST('/api/v1/slack-endpoints/{id}/test', { params: { path: { id: e.id } } }));
    const answer = r.delivered
      ? `Slack accepted it (HTTP ${r.status_code}, ${r.latency_ms} ms).`
      : `It did not arrive: ${r.error ?? 'no answer'}.`;
    setTested({ name: e.name, text: `Test message to ${e.name}: ${answer}`, delivered: r.delivered });
    return true;
  });
  const change = useAction(async (id: string, patch: BodyOf<'updateSlackEndpoint'> | null) => {
    const path = { id };
    if (patch) await ok(client.PATCH('/api/v1/slack-endpoints/{id}', { params: { path }, body: patch }));
    else await ok(client.DELETE('/api/v1/slack-endpoints/{id}', { params: { path } }));
    setDeleting(undefined);
    await list.reload();
    return true;
  });
  return (
    <section className="card" aria-label="Slack webhooks">
      <h2>Slack incoming webhooks</h2>
      <p className="muted">
        Internal notices and failure alerts go to every enabled endpoint (see the Notifications tab).
      </p>
      <ErrorNote error={list.error ?? (deleting ? undefined : (change.error ?? test.error))} />
      {tested ? (
        <div className={tested.delivered ? 'note note-ok' : 'note note-error'} role="status">
          {tested.text}
        </div>
      ) : null}
      {list.data && list.data.items.length === 0 ? <Empty>No Slack endpoint yet.</Empty> : null}
      {list.data && list.data.items.length > 0 ? (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">URL</th>
              <th scope="col">Enabled</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((e) => (
              <tr key={e.id}>
                <td>{e.name}</td>
                <td className="mono small">{e.url_hint}</td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Enabled: ${e.name}`}
                    checked={e.enabled}
                    onChange={(ev) => void change.run(e.id, { enabled: ev.target.checked })}
                  />
                </td>
                <td>
                  <button type="button" className="small" disabled={test.busy} onClick={() => void test.run(e)}>
                    Send test to {e.name}
                  </button>{' '}
                  <button type="button" className="danger-outline small" onClick={() => setDeleting(e)}>
                    Delete {e.name}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
      >
        <Field label="Endpoint name" error={add.error?.fieldError('name')}>
          {(id, d) => (
            <input id={id} aria-describedby={d} required value={name} onChange={(e) => setName(e.target.value)} />
          )}
        </Field>
        <TextField
          label="Webhook URL"
          error={add.error?.fieldError('url')}
          required
          type="url"
          placeholder="https://hooks.slack.com/services/…"
          value={url}
          onChange={setUrl}
        />
        <InlineSubmit primary busy={add.busy}>
          Add endpoint
        </InlineSubmit>
      </form>
      <ErrorNote error={add.error} fields={['name', 'url']} />
      <ConfirmDialog
        title="Delete Slack endpoint"
        open={!!deleting}
        confirm="Delete endpoint"
        danger
        busy={change.busy}
        error={change.error}
        onCancel={() => setDeleting(undefined)}
        onConfirm={() => deleting && void change.run(deleting.id, null)}
      >
        <p>
          Notices and failure alerts stop going to <strong>{deleting?.name}</strong> ({deleting?.url_hint}). To pause it
          instead, untick Enabled. Deleting cannot be undone.
        </p>
      </ConfirmDialog>
      {list.data?.items[0]?.created_at ? (
        <p className="muted small">
          Newest added <Time iso={list.data.items[0].created_at} />.
        </p>
      ) : null}
    </section>
  );
}
