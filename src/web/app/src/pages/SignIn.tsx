// Signed-out pages: sign in, first-run setup from the one-time link, accepting an invitation.
import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { client, ok } from '../api.ts';
import { ErrorNote, Loading, TextField } from '../components/ui.tsx';
import { useAction, useApi } from '../hooks.ts';
import { Link, useLocation } from '../router.tsx';
import type { SignedIn } from '../types.ts';

function Card({ title, intro, children }: { title: string; intro?: ReactNode; children: ReactNode }) {
  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="brand auth-brand">Billflow</div>
        <h1>{title}</h1>
        {intro ? <p className="muted">{intro}</p> : null}
        {children}
      </div>
    </main>
  );
}

export function LoginPage({ onSignedIn, notice }: { onSignedIn: (s: SignedIn) => void; notice?: string | null }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction(() => ok(client.POST('/api/v1/auth/login', { body: { email, password } })));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const signed = await action.run();
    if (signed) onSignedIn(signed);
  };
  return (
    <Card title="Sign in">
      {notice ? (
        <div className="note note-warn" role="status">
          {notice}
        </div>
      ) : null}
      <form onSubmit={(e) => void submit(e)} className="stack">
        <ErrorNote error={action.error} fields={['email', 'password']} />
        <TextField
          label="Email"
          error={action.error?.fieldError('email')}
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={setEmail}
        />
        <TextField
          label="Password"
          error={action.error?.fieldError('password')}
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={setPassword}
        />
        <button type="submit" className="primary" disabled={action.busy}>
          {action.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </Card>
  );
}

/** Shared by first-run setup and invitations: choose a password (twice) with a token from the link. */
function PasswordForm({
  withEmail,
  submitLabel,
  send,
  onSignedIn,
}: {
  withEmail: boolean;
  submitLabel: string;
  send: (email: string, password: string) => Promise<SignedIn>;
  onSignedIn: (s: SignedIn) => void;
}) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const action = useAction(() => send(email, password));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setMismatch(password !== confirm);
    if (password !== confirm) return;
    const signed = await action.run();
    if (signed) onSignedIn(signed);
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="stack">
      <ErrorNote error={action.error} />
      {withEmail ? (
        <TextField
          label="Email"
          error={action.error?.fieldError('email')}
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={setEmail}
        />
      ) : null}
      <TextField
        label="Password"
        hint="At least 12 characters; a passphrase is best."
        error={action.error?.fieldError('password')}
        type="password"
        autoComplete="new-password"
        required
        minLength={12}
        value={password}
        onChange={setPassword}
      />
      <TextField
        label="Confirm password"
        error={mismatch ? 'The two passwords differ' : undefined}
        type="password"
        autoComplete="new-password"
        required
        value={confirm}
        onChange={setConfirm}
      />
      <button type="submit" className="primary" disabled={action.busy}>
        {action.busy ? 'Working…' : submitLabel}
      </button>
    </form>
  );
}

/**
 * A setup or invitation link's form, shown only while the link works: a used, expired or unknown
 * link says so (with the way to sign in) instead of a form that would fail on submit.
 */
function LinkGate({ kind, token, children }: { kind: 'setup' | 'invitation'; token: string; children: ReactNode }) {
  const status = useApi(token ? `link:${kind}:${token}` : null, () =>
    ok(client.POST('/api/v1/auth/link-status', { body: { kind, token } })),
  );
  // Without a token the form's own answer says what is wrong.
  if (!token) return <>{children}</>;
  if (status.loading && !status.data) return <Loading />;
  if (!status.data) return <ErrorNote error={status.error} />;
  if (status.data.status === 'valid') return <>{children}</>;
  const message = {
    used: 'This link was already used.',
    expired: 'This link has expired.',
    invalid: 'This link is not valid (an invitation link stops working when a newer one is issued).',
  }[status.data.status];
  const next =
    kind === 'setup'
      ? status.data.status === 'used'
        ? 'Billflow is set up: sign in with your account.'
        : 'Restart Billflow (billflow start) for a new setup link.'
      : status.data.status === 'used'
        ? 'Your account is set up: sign in with your password.'
        : 'Ask an administrator for a new invitation link.';
  return (
    <div className="stack">
      <div className="note note-warn" role="alert">
        <strong>{message}</strong> {next}
      </div>
      <Link to="/login" className="button primary">
        Go to sign in
      </Link>
    </div>
  );
}

export function SetupPage({ onSignedIn }: { onSignedIn: (s: SignedIn) => void }) {
  const token = useLocation().search.get('token') ?? '';
  return (
    <Card title="Welcome to Billflow" intro="Create the first administrator account. This link works once.">
      {token ? (
        <LinkGate kind="setup" token={token}>
          <PasswordForm
            withEmail
            submitLabel="Create admin account"
            send={(email, password) => ok(client.POST('/api/v1/auth/setup', { body: { token, email, password } }))}
            onSignedIn={onSignedIn}
          />
        </LinkGate>
      ) : (
        <div className="note note-error" role="alert">
          This page needs the one-time setup link that <code>billflow start</code> prints.
        </div>
      )}
    </Card>
  );
}

export function InvitationPage({ onSignedIn }: { onSignedIn: (s: SignedIn) => void }) {
  const token = useLocation().search.get('token') ?? '';
  return (
    <Card title="Accept your invitation" intro="Choose a password to finish setting up your account.">
      <LinkGate kind="invitation" token={token}>
        <PasswordForm
          withEmail={false}
          submitLabel="Set password and sign in"
          send={(_email, password) => ok(client.POST('/api/v1/auth/invitation', { body: { token, password } }))}
          onSignedIn={onSignedIn}
        />
      </LinkGate>
    </Card>
  );
}
