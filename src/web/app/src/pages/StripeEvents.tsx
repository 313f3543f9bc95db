// The Stripe event ledger: every event Stripe delivered or the catch-up found, what Billflow did
// with it, one event with its run and payload, and "Replay" (with a reason, audited).
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { client, ok } from '../api.ts';
import { FIRST_PAGE, KeysetPager, usePageCursor } from '../components/KeysetPager.tsx';
import type { components } from '../api/schema';
import { useCan } from '../auth.tsx';
import { RunStatus, RunStep } from '../components/RunBits.tsx';
import { Dialog, Empty, ErrorNote, Field, JsonView, Loading, PageHeader, StatusBadge } from '../components/ui.tsx';
import { humanize } from '../format.ts';
import { useAction, useApi, useWorkflowTypes } from '../hooks.ts';
import { Link, navigate, useLocation, withParams } from '../router.tsx';
import { Time } from '../components/Time.tsx';
import { StripeCatchUpCard } from './StripeCatchUp.tsx';

type StripeEvent = components['schemas']['StripeEvent'];
type Outcome = components['schemas']['StripeEventOutcome'];

const OUTCOMES: Outcome[] = [
  'received',
  'started',
  'duplicate',
  'recorded',
  'ignored',
  'unsupported',
  'waiting',
  'rejected',
  'failed',
];

const OUTCOME_STATUS: Partial<Record<Outcome, string>> = {
  started: 'completed',
  recorded: 'completed',
  waiting: 'waiting',
  rejected: 'failed',
  failed: 'failed',
  received: 'pending',
};

function OutcomeBadge({ outcome }: { outcome: Outcome }) {
  return <StatusBadge status={OUTCOME_STATUS[outcome] ?? 'neutral'} label={humanize(outcome)} />;
}

const VIA: Record<StripeEvent['received_via'], string> = { webhook: 'Delivered', catch_up: 'Caught up' };

export function StripeEventsPage() {
  const loc = useLocation();
  const q = loc.search;
  const type = q.get('type') ?? '';
  const outcome = (q.get('outcome') ?? '') as Outcome | '';
  const { cursor } = usePageCursor();
  const events = useApi(
    JSON.stringify(['stripe-events', type, outcome, cursor]),
    () =>
      ok(
        client.GET('/api/v1/stripe-events', {
          params: {
            query: { type: type || undefined, outcome: outcome || undefined, cursor: cursor || undefined, limit: 25 },
          },
        }),
      ),
    10_000,
  );
  const [draftType, setDraftType] = useState(type);
  useEffect(() => setDraftType(type), [type]);
  const setFilter = (changes: Record<string, string | null>) =>
    navigate(withParams(loc, { ...changes, ...FIRST_PAGE }), { replace: true });
  const items = events.data?.items ?? [];
  return (
    <>
      <PageHeader title="Stripe events" />
      <p className="muted small">
        Every event Stripe delivered, and every event whose delivery never came that the workers found through Stripe’s
        Events API, with what Billflow did with it.
      </p>
      <StripeCatchUpCard />
      <form
        className="filters card"
        aria-label="Filters"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setFilter({ type: draftType.trim() || null });
        }}
      >
        <Field label="Outcome">
          {(id) => (
            <select id={id} value={outcome} onChange={(e) => setFilter({ outcome: e.target.value || null })}>
              <option value="">Any outcome</option>
              {OUTCOMES.map((o) => (
                <option key={o} value={o}>
                  {humanize(o)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Event type">
          {(id) => (
            <div className="input-row">
              <input
                id={id}
                type="search"
                placeholder="payment_intent.succeeded"
                value={draftType}
                onChange={(e) => setDraftType(e.target.value)}
              />
              <button type="submit">Filter</button>
            </div>
          )}
        </Field>
        {type || outcome ? (
          <button type="button" className="link" onClick={() => setFilter({ type: null, outcome: null })}>
            Clear filters
          </button>
        ) : null}
      </form>
      <ErrorNote error={events.error} />
      {events.loading && !events.data ? <Loading /> : null}
      {events.data && items.length === 0 ? <Empty>No Stripe events{type || outcome ? ' match' : ' yet'}.</Empty> : null}
      {items.length > 0 ? (
        <div className="table-wrap card" tabIndex={0}>
          <table className="table">
            <caption className="sr-only">Stripe events</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Type</th>
                <th scope="col">Outcome</th>
                <th scope="col">Received</th>
                <th scope="col">Run</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Link to={`/stripe-events/${e.id}`} className="mono">
                      {e.id}
                    </Link>
                  </td>
                  <td className="mono">{e.type}</td>
                  <td>
                    <OutcomeBadge outcome={e.outcome} />
                  </td>
                  <td>{VIA[e.received_via]}</td>
                  <td>
                    {e.run_id ? (
                      <Link to={`/runs/${e.run_id}`} className="mono">
                        {e.run_id}
                      </Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    <Time iso={e.received_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {events.data ? <KeysetPager nextCursor={events.data.next_cursor} /> : null}
    </>
  );
}

export function StripeEventPage({ id }: { id: string }) {
  const can = useCan();
  const { label } = useWorkflowTypes();
  const [replaying, setReplaying] = useState(false);
  const [replayed, setReplayed] = useState<{ from: Outcome; to: Outcome }>();
  const detail = useApi(`stripe-event:${id}`, () =>
    ok(client.GET('/api/v1/stripe-events/{id}', { params: { path: { id } } })),
  );
  if (detail.loading && !detail.data) return <Loading />;
  if (!detail.data) return <ErrorNote error={detail.error} />;
  const { event, payload, runs } = detail.data;
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/stripe-events">Stripe events</Link> / <span className="mono">{event.id}</span>
      </nav>
      <PageHeader
        title={
          <>
            <span className="mono">{event.type}</span> <OutcomeBadge outcome={event.outcome} />
          </>
        }
      >
        {can('developer') ? (
          <button type="button" onClick={() => setReplaying(true)}>
            Replay
          </button>
        ) : null}
      </PageHeader>
      {replayed ? (
        <div className="note note-ok" role="status">
          Replayed: the event went from <strong>{humanize(replayed.from)}</strong> to{' '}
          <strong>{humanize(replayed.to)}</strong>.
        </div>
      ) : null}
      <section className="card">
        <dl className="kv grid">
          <dt>Event</dt>
          <dd className="mono">{event.id}</dd>
          <dt>About</dt>
          <dd className="mono">{event.object_id ?? '—'}</dd>
          <dt>Outcome</dt>
          <dd>{humanize(event.outcome)}</dd>
          <dt>Detail</dt>
          <dd>{event.detail ?? event.error ?? '—'}</dd>
          {event.waiting_for ? (
            <>
              <dt>Waiting for</dt>
              <dd className="mono">{event.waiting_for}</dd>
            </>
          ) : null}
          <dt>Received</dt>
          <dd>
            {VIA[event.received_via]} <Time iso={event.received_at} />
            {event.deliveries > 1 ? ` (${event.deliveries} times)` : ''}
          </dd>
          <dt>Created at Stripe</dt>
          <dd>
            <Time iso={event.created} />
          </dd>
          <dt>Handled</dt>
          <dd>
            <Time iso={event.handled_at} />
          </dd>
          <dt>Record</dt>
          <dd className="mono">{event.record_id ?? '—'}</dd>
          <dt>Customer</dt>
          <dd>
            {event.customer_id ? (
              <Link to={`/customers/${event.customer_id}`} className="mono">
                {event.customer_id}
              </Link>
            ) : (
              '—'
            )}
          </dd>
        </dl>
      </section>
      <section className="card" aria-label="Runs">
        <h2>Runs</h2>
        {runs.length === 0 ? (
          <Empty>It started no run.</Empty>
        ) : (
          <div className="table-wrap" tabIndex={0}>
            <table className="table compact">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Step</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link to={`/runs/${r.id}`} className="mono">
                        {r.id}
                      </Link>
                    </td>
                    <td>{label(r.type)}</td>
                    <td>
                      <RunStatus run={r} />
                    </td>
                    <td>
                      <RunStep run={r} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card" aria-label="As Stripe sent it">
        <h2>As Stripe sent it</h2>
        <JsonView value={payload} label="Event payload" />
      </section>
      {replaying ? (
        <ReplayDialog
          event={event}
          onClose={() => setReplaying(false)}
          onDone={(from, to) => {
            setReplaying(false);
            setReplayed({ from, to });
            void detail.reload();
          }}
        />
      ) : null}
    </>
  );
}

function ReplayDialog({
  event,
  onClose,
  onDone,
}: {
  event: StripeEvent;
  onClose: () => void;
  onDone: (from: Outcome, to: Outcome) => void;
}) {
  const [reason, setReason] = useState('');
  const act = useAction(() =>
    ok(client.POST('/api/v1/stripe-events/{id}/replay', { params: { path: { id: event.id } }, body: { reason } })),
  );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = await act.run();
    if (result) onDone(result.previous_outcome, result.event.outcome);
  };
  return (
    <Dialog title="Replay this event" open onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <div className="note">
          <strong>What will happen</strong>
          <ul>
            <li>
              Billflow handles <span className="mono">{event.id}</span> again from the payload it stored, as if Stripe
              had just delivered it.
            </li>
            <li>
              {event.run_id
                ? `Its run ${event.run_id} exists: it is found again, and no other run starts.`
                : 'If it can be applied now, it starts its run; otherwise it keeps its outcome.'}
            </li>
          </ul>
        </div>
        <ErrorNote error={act.error} />
        <Field label="Reason" hint="Recorded in the audit log with your name." error={act.error?.fieldError('reason')}>
          {(id, d) => (
            <textarea
              id={id}
              aria-describedby={d}
              required
              rows={3}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          )}
        </Field>
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Back
          </button>
          <button type="submit" className="primary" disabled={act.busy || !reason.trim()}>
            {act.busy ? 'Working…' : 'Replay event'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
