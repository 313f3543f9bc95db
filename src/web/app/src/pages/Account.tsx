// The signed-in user's own account: change the password.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { client, ok } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { ErrorNote, PageHeader, TextField } from '../components/ui.tsx';
import { useAction } from '../hooks.ts';

export function AccountPage() {
  const { principal } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [done, setDone] = useState(false);
  const action = useAction(async () => {
    await ok(client.POST('/api/v1/auth/password', { body: { current_password: current, new_password: next } }));
    return true;
  });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    if (await action.run()) {
      setDone(true);
      setCurrent('');
      setNext('');
    }
  };
  return (
    <>
      <PageHeader title="Your account" />
      <section className="card narrow">
        <h2>Change password</h2>
        <p className="muted">
          Signed in as {principal.email ?? principal.id}. Changing it signs out your other sessions.
        </p>
        <form className="stack" onSubmit={(e) => void submit(e)}>
          <ErrorNote error={action.error} />
          {done ? (
            <div className="note note-ok" role="status">
              Password changed.
            </div>
          ) : null}
          <TextField
            label="Current password"
            error={action.error?.fieldError('current_password')}
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onChange={setCurrent}
          />
          <TextField
            label="New password"
            hint="At least 12 characters."
            error={action.error?.fieldError('new_password')}
            type="password"
            autoComplete="new-password"
            required
            minLength={12}
            value={next}
            onChange={setNext}
          />
          <button type="submit" className="primary" disabled={action.busy}>
            Change password
          </button>
        </form>
      </section>
    </>
  );
}
