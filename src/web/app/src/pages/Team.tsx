// API keys (developer+); the users tab lives in Users.tsx.
import { useState } from 'react';
import { client, newIdempotencyKey, ok } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { RoleSelect } from '../components/RoleSelect.tsx';
import { Dialog, Empty, ErrorNote, Field, TextField, InlineSubmit } from '../components/ui.tsx';
import { fromLocalInput, timeZoneLabel } from '../format.ts';
import { useAction, useApi } from '../hooks.ts';
import type { ApiKey, Role } from '../types.ts';
import { ROLE_LABELS } from '../types.ts';
import { Time } from '../components/Time.tsx';

export { UsersTab } from './Users.tsx';

export function ApiKeysTab() {
  const { principal } = useAuth();
  const [showRevoked, setShowRevoked] = useState(false);
  const list = useApi(`keys:${showRevoked}`, () =>
    ok(client.GET('/api/v1/api-keys', { params: { query: { include_revoked: showRevoked, limit: 200 } } })),
  );
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [expires, setExpires] = useState('');
  const [shown, setShown] = useState<{ name: string; key: string | null }>();
  const [revoking, setRevoking] = useState<ApiKey>();
  const create = useAction(async () => {
    const expiresAt = expires ? fromLocalInput(expires) : null;
    const r = await ok(
      client.POST('/api/v1/api-keys', {
        body: { name, role, ...(expiresAt ? { expires_at: expiresAt } : {}) },
        params: { header: { 'idempotency-key': newIdempotencyKey() } },
      }),
    );
    setShown({ name: r.api_key.name, key: r.key });
    setName('');
    setExpires('');
    await list.reload();
    return r;
  });
  const revoke = useAction(async (id: string) => {
    await ok(client.DELETE('/api/v1/api-keys/{id}', { params: { path: { id } } }));
    setRevoking(undefined);
    await list.reload();
    return true;
  });
  return (
    <section className="card" aria-label="API keys">
      <h2>API keys</h2>
      <p className="muted">
        For machines: send it as <code>Authorization: Bearer bf_…</code>. A key acts with its role.
      </p>
      <ErrorNote error={list.error} />
      <label className="check">
        <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} /> Show revoked
        keys
      </label>
      {list.data && list.data.items.length === 0 ? <Empty>No API keys.</Empty> : null}
      {list.data && list.data.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0}>
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Role</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td className="mono small">{k.prefix}…</td>
                  <td>{ROLE_LABELS[k.role]}</td>
                  <td>{k.last_used_at ? <Time iso={k.last_used_at} /> : 'never'}</td>
                  <td>{k.expires_at ? <Time iso={k.expires_at} /> : 'never'}</td>
                  <td>
                    {k.revoked_at ? (
                      <span className="badge badge-neutral">Revoked</span>
                    ) : (
                      <button type="button" className="danger-outline small" onClick={() => setRevoking(k)}>
                        Revoke {k.name}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <h3>Create a key</h3>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <Field label="Key name" error={create.error?.fieldError('name')}>
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              required
              value={name}
              placeholder="e.g. billing backend"
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Key role">
          {(id) => <RoleSelect id={id} value={role} max={principal.role} onChange={setRole} />}
        </Field>
        <TextField
          label="Expires (optional)"
          hint={`In your time zone, ${timeZoneLabel()}.`}
          error={create.error?.fieldError('expires_at')}
          type="datetime-local"
          value={expires}
          onChange={setExpires}
        />
        <InlineSubmit primary busy={create.busy}>
          Create key
        </InlineSubmit>
      </form>
      <ErrorNote error={create.error} />
      <Dialog title="Your new API key" open={!!shown} onClose={() => setShown(undefined)}>
        <p>
          Copy the key for <strong>{shown?.name}</strong> now: it is shown only this once and cannot be recovered.
        </p>
        <input
          readOnly
          aria-label="New API key"
          className="mono wide"
          value={shown?.key ?? ''}
          onFocus={(e) => e.target.select()}
        />
        <div className="dialog-actions">
          <button type="button" className="primary" onClick={() => setShown(undefined)}>
            I have copied it
          </button>
        </div>
      </Dialog>
      <Dialog title="Revoke API key" open={!!revoking} onClose={() => setRevoking(undefined)}>
        <p>
          Requests with <strong>{revoking?.name}</strong> ({revoking?.prefix}…) will be refused from now on. This cannot
          be undone.
        </p>
        <ErrorNote error={revoke.error} />
        <div className="dialog-actions">
          <button type="button" onClick={() => setRevoking(undefined)}>
            Keep it
          </button>
          <button
            type="button"
            className="danger"
            disabled={revoke.busy}
            onClick={() => revoking && void revoke.run(revoking.id)}
          >
            Revoke key
          </button>
        </div>
      </Dialog>
    </section>
  );
}
