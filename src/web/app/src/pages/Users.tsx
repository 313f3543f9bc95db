// Users and roles (admin): invite, change a role or deactivate (each confirmed, each reported), and
// a new invitation link for someone who lost theirs.
import { useState } from 'react';
import { client, newIdempotencyKey, ok } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { RoleSelect } from '../components/RoleSelect.tsx';
import { Dialog, ErrorNote, Field, InlineSubmit, Loading, TextField } from '../components/ui.tsx';
import { useAction, useApi } from '../hooks.ts';
import type { Role, User } from '../types.ts';
import { ROLE_LABELS } from '../types.ts';
import { Time } from '../components/Time.tsx';

/** What each role may do, said where a role is given. */
const ROLE_MEANS: Record<Role, string> = {
  admin: 'everything, including users and roles',
  developer: 'API keys, Slack endpoints and templates, and all an account manager does',
  account_manager: 'workflow runs: restart, cancel, skip, bulk restart',
  customer_support: 'customers and their billing records, no workflow runs',
  viewer: 'read-only dashboards and records',
};

/** A change waiting for confirmation. */
type Pending = { user: User; patch: { role: Role; active?: never } | { active: boolean; role?: never } };

export function UsersTab() {
  const { principal } = useAuth();
  const list = useApi('users', () => ok(client.GET('/api/v1/users', { params: { query: { limit: 200 } } })));
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [invite, setInvite] = useState<Invite>();
  const [pending, setPending] = useState<Pending>();
  const [report, setReport] = useState<string>();
  const create = useAction(async () => {
    const r = await ok(
      client.POST('/api/v1/users', {
        body: { email, role },
        params: { header: { 'idempotency-key': newIdempotencyKey() } },
      }),
    );
    setInvite({ email: r.user.email, url: r.invite_url, again: false, mail: r.invite_email });
    setEmail('');
    await list.reload();
    return r;
  });
  const update = useAction(async ({ user, patch }: Pending) => {
    const r = await ok(client.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body: patch }));
    setPending(undefined);
    setReport(
      patch.role !== undefined
        ? `${r.email} is now ${ROLE_LABELS[r.role]}.`
        : r.active
          ? `${r.email} is active again and can sign in.`
          : `${r.email} is deactivated; their sessions have ended.`,
    );
    await list.reload();
    return r;
  });
  const reissue = useAction(async (user: User) => {
    const r = await ok(client.POST('/api/v1/users/{id}/invitation', { params: { path: { id: user.id } } }));
    setInvite({ email: r.user.email, url: r.invite_url, again: true, mail: r.invite_email });
    return r;
  });
  const ask = (p: Pending) => {
    update.reset();
    setReport(undefined);
    setPending(p);
  };
  return (
    <section className="card" aria-label="Users">
      <h2>Users and roles</h2>
      <ErrorNote error={list.error ?? reissue.error} />
      {report ? (
        <div className="note note-ok" role="status">
          {report}
        </div>
      ) : null}
      {list.loading && !list.data ? <Loading /> : null}
      {list.data ? (
        <div className="table-wrap" tabIndex={0}>
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Since</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((u) => {
                const self = u.id === principal.id;
                return (
                  <tr key={u.id}>
                    <td>
                      {u.email} {self ? <span className="muted small">(you)</span> : null}
                    </td>
                    <td>
                      {self ? (
                        ROLE_LABELS[u.role]
                      ) : (
                        <RoleSelect
                          label={`Role of ${u.email}`}
                          value={u.role}
                          max="admin"
                          onChange={(r) => ask({ user: u, patch: { role: r } })}
                        />
                      )}
                    </td>
                    <td>
                      {!u.active ? (
                        <span className="badge badge-neutral">Deactivated</span>
                      ) : !u.password_set ? (
                        <span className="badge badge-info">Invited</span>
                      ) : (
                        <span className="badge badge-ok">Active</span>
                      )}
                    </td>
                    <td>
                      <Time iso={u.created_at} />
                    </td>
                    <td>
                      {self ? null : (
                        <span className="row">
                          {u.active && !u.password_set ? (
                            <button
                              type="button"
                              className="small"
                              disabled={reissue.busy}
                              onClick={() => void reissue.run(u)}
                            >
                              New invitation link for {u.email}
                            </button>
                          ) : null}
                          <button
                            type="button"
                            className={u.active ? 'danger-outline small' : 'small'}
                            onClick={() => ask({ user: u, patch: { active: !u.active } })}
                          >
                            {u.active ? `Deactivate ${u.email}` : `Reactivate ${u.email}`}
                          </button>
                        </span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <h3>Invite someone</h3>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <TextField
          label="Email"
          error={create.error?.fieldError('email')}
          type="email"
          required
          value={email}
          onChange={setEmail}
        />
        <Field label="Role" error={create.error?.fieldError('role')}>
          {(id) => <RoleSelect id={id} value={role} max="admin" onChange={setRole} />}
        </Field>
        <InlineSubmit primary busy={create.busy}>
          Invite
        </InlineSubmit>
      </form>
      <ErrorNote error={create.error} fields={['email', 'role']} />
      <ConfirmChange
        pending={pending}
        busy={update.busy}
        error={update.error}
        onCancel={() => setPending(undefined)}
        onConfirm={(p) => void update.run(p)}
      />
      <Dialog
        title={invite?.again ? 'New invitation link' : 'Invitation created'}
        open={!!invite}
        onClose={() => setInvite(undefined)}
      >
        {invite ? <InviteDelivery invite={invite} /> : null}
        <input
          readOnly
          aria-label="Invitation link"
          className="mono wide"
          value={invite?.url ?? ''}
          onFocus={(e) => e.target.select()}
        />
        <div className="dialog-actions">
          <button type="button" className="primary" onClick={() => setInvite(undefined)}>
            Done
          </button>
        </div>
      </Dialog>
    </section>
  );
}

interface Invite {
  email: string;
  url: string | null;
  again: boolean;
  /** Whether the link went out by email (absent on an idempotent replay). */
  mail?: { status: 'sent' | 'failed' | 'not_sent'; detail: string | null } | null;
}

/** Says whether the invitation was emailed, or that the admin must pass the link on. */
function InviteDelivery({ invite }: { invite: Invite }) {
  const once = `It works once${invite.again ? '; earlier links no longer work' : ''}.`;
  if (invite.mail?.status === 'sent') {
    return (
      <>
        <div className="note note-ok" role="status">
          The invitation was emailed to <strong>{invite.email}</strong>.
        </div>
        <p>The link is also here, shown only once, in case the email does not arrive. {once}</p>
      </>
    );
  }
  return (
    <>
      {invite.mail ? (
        <div className="note note-warn" role="status">
          {invite.mail.status === 'failed'
            ? `The email to ${invite.email} could not be sent: ${invite.mail.detail ?? 'unknown error'}.`
            : `Invitations are not emailed: ${invite.mail.detail ?? 'email is not set up'}.`}
        </div>
      ) : null}
      <p>
        Copy this link and send it to <strong>{invite.email}</strong> yourself. It is shown only once. {once}
      </p>
    </>
  );
}

function ConfirmChange(props: {
  pending: Pending | undefined;
  busy: boolean;
  error: Parameters<typeof ErrorNote>[0]['error'];
  onCancel: () => void;
  onConfirm: (p: Pending) => void;
}) {
  const p = props.pending;
  const role = p?.patch.role;
  const title = role !== undefined ? 'Change role' : p?.patch.active ? 'Reactivate user' : 'Deactivate user';
  return (
    <Dialog title={title} open={!!p} onClose={props.onCancel}>
      {p ? (
        <div className="stack">
          {role !== undefined ? (
            <p>
              <strong>{p.user.email}</strong> goes from {ROLE_LABELS[p.user.role]} to{' '}
              <strong>{ROLE_LABELS[role]}</strong>: {ROLE_MEANS[role]}. It applies to their next request.
            </p>
          ) : p.patch.active ? (
            <p>
              <strong>{p.user.email}</strong> can sign in again with their password.
            </p>
          ) : (
            <p>
              <strong>{p.user.email}</strong> is signed out everywhere and cannot sign in until reactivated.
            </p>
          )}
          <ErrorNote error={props.error} />
          <div className="dialog-actions">
            <button type="button" onClick={props.onCancel}>
              Keep as is
            </button>
            <button
              type="button"
              className={p.patch.active === false ? 'danger' : 'primary'}
              disabled={props.busy}
              onClick={() => props.onConfirm(p)}
            >
              {title}
            </button>
          </div>
        </div>
      ) : null}
    </Dialog>
  );
}
