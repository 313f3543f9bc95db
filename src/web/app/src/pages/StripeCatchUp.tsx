// Where the catch-up through Stripe's Events API stands: its last pass, its cursor, what it
// found and why it last failed — so a developer sees that lost deliveries are being looked for.
import { client, ok } from '../api.ts';
import { ErrorNote } from '../components/ui.tsx';
import { Time } from '../components/Time.tsx';
import { useApi } from '../hooks.ts';

export function StripeCatchUpCard() {
  const status = useApi('stripe-catch-up', () => ok(client.GET('/api/v1/stripe-events/catch-up')), 10_000);
  const s = status.data;
  return (
    <section className="card" aria-labelledby="catch-up-title">
      <h2 id="catch-up-title">Catch-up</h2>
      <ErrorNote error={status.error} />
      {s && !s.last_run_at ? (
        <p className="muted small">No catch-up has run: it runs in the workers when Stripe is the payment provider.</p>
      ) : null}
      {s?.last_run_at ? (
        <dl className="kv grid">
          <dt>Last pass</dt>
          <dd>
            <Time iso={s.last_run_at} withRelative />
            {s.running ? ' — a pass is running' : ''}
          </dd>
          <dt>Listed up to</dt>
          <dd>
            <Time iso={s.listed_until} />
          </dd>
          <dt>Found in the last pass</dt>
          <dd>{s.last_found}</dd>
          <dt>Caught up in the ledger</dt>
          <dd>{s.caught_up}</dd>
          <dt>Last error</dt>
          <dd>{s.last_error ?? 'None'}</dd>
        </dl>
      ) : null}
      {s?.last_error ? (
        <div className="note note-error">
          The last pass failed; it is tried again every minute. Events Stripe sent meanwhile are listed once it passes.
        </div>
      ) : null}
    </section>
  );
}
