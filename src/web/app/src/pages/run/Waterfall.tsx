// A run on one time axis: a row per step, a bar per attempt (coloured by outcome) and a lighter
// bar for each wait (a retry's back-off or a durable timer), with the operator actions that
// started a new round (restart, run now, skip) drawn across every row and listed with who and why.
import { Time } from '../../components/Time.tsx';
import { dateTime, duration, errorText, humanize } from '../../format.ts';
import type { Attempt, RunDetail } from '../../types.ts';

type RunEvent = RunDetail['events'][number];

/** The operator actions that start a new round of a step, as the timeline names them. */
export const BOUNDARY: Record<string, string> = { restart: 'Restarted', run_now: 'Run now', skip_step: 'Skipped' };

const ms = (iso: string | null | undefined): number | null => (iso ? new Date(iso).getTime() : null);

/** Whether an error can succeed on another try: the engine's `retryable` flag, when it set one. */
export function retryableOf(error: unknown): boolean | null {
  if (typeof error !== 'object' || error === null || !('retryable' in error)) return null;
  return typeof error.retryable === 'boolean' ? error.retryable : null;
}

/** "Permanent" or "Retryable" next to an error, so the operator knows whether a restart can help. */
export function ErrorKind({ error }: { error: unknown }) {
  const retryable = retryableOf(error);
  if (retryable === null) return null;
  return retryable ? (
    <span className="badge badge-warn" title="A later attempt can succeed (a timeout, a 5xx, a refused connection).">
      Retryable
    </span>
  ) : (
    <span
      className="badge badge-bad"
      title="Another attempt cannot succeed until the cause is fixed (bad data, a 4xx)."
    >
      Permanent
    </span>
  );
}

interface Span {
  key: string;
  from: number;
  to: number;
  kind: string;
  text: string;
}

function spansOf(stepName: string, attempts: Attempt[], now: number): Span[] {
  const spans: Span[] = [];
  attempts.forEach((a, i) => {
    const start = ms(a.started_at);
    if (start === null) return;
    const end = ms(a.ended_at) ?? now;
    const error = a.error ? ` — ${errorText(a.error)}` : '';
    const kind = retryableOf(a.error) === false ? ' (permanent)' : retryableOf(a.error) ? ' (retryable)' : '';
    spans.push({
      key: `a${i}`,
      from: start,
      to: end,
      kind: `attempt outcome-${a.outcome}`,
      text: `${stepName} attempt #${a.number}: ${humanize(a.outcome)}${kind}, ${dateTime(a.started_at)}, ${duration(end - start)}${error}`,
    });
    // The wait that followed: until the next attempt began, or the time the step was due.
    if (a.outcome === 'retrying' || a.outcome === 'waiting') {
      const next = ms(attempts[i + 1]?.started_at);
      const due = ms(a.until) ?? (a.retry_in_ms !== undefined ? end + a.retry_in_ms : null);
      const until = next ?? Math.min(due ?? now, now);
      if (until > end) {
        spans.push({
          key: `w${i}`,
          from: end,
          to: until,
          kind: `wait wait-${a.outcome}`,
          text: `${stepName}: ${a.outcome === 'retrying' ? 'back-off before a retry' : 'waiting'} ${duration(until - end)}${
            a.until ? `, due ${dateTime(a.until)}` : ''
          }`,
        });
      }
    }
  });
  return spans;
}

export function Waterfall({ run, now = Date.now() }: { run: RunDetail; now?: number }) {
  const markers = run.events.filter((e: RunEvent) => e.action in BOUNDARY);
  const perStep = run.steps.map((s) => ({ step: s, spans: spansOf(s.name, s.attempts, now) }));
  const times = [
    ms(run.created_at),
    ...perStep.flatMap((p) => p.spans.flatMap((s) => [s.from, s.to])),
    ...markers.map((m) => ms(m.created_at)),
  ].filter((t): t is number => t !== null);
  if (times.length === 0 || perStep.every((p) => p.spans.length === 0)) return null;
  const start = Math.min(...times);
  const end = Math.max(...times, ms(run.finished_at) ?? start);
  const total = Math.max(end - start, 1);
  const pct = (t: number) => `${(((t - start) / total) * 100).toFixed(3)}%`;
  const width = (a: number, b: number) => `${Math.max(((b - a) / total) * 100, 0.4).toFixed(3)}%`;
  return (
    <section className="card" aria-label="Waterfall">
      <h2>Waterfall</h2>
      <p className="muted small">
        From <Time iso={new Date(start).toISOString()} /> to <Time iso={new Date(end).toISOString()} /> (
        {duration(end - start)}). Solid bars are attempts, light bars waits; a dashed line marks each operator action.
      </p>
      <div className="waterfall">
        <ol className="waterfall-rows">
          {perStep.map(({ step, spans }) => (
            <li key={step.index} className="waterfall-row">
              <span className="waterfall-label mono">{step.name}</span>
              <span className="waterfall-track">
                {spans.map((s) => (
                  <span
                    key={s.key}
                    className={`waterfall-bar ${s.kind}`}
                    style={{ left: pct(s.from), width: width(s.from, s.to) }}
                    title={s.text}
                    role="img"
                    aria-label={s.text}
                  />
                ))}
                {markers.map((m) => (
                  <span
                    key={m.id}
                    className="waterfall-marker"
                    style={{ left: pct(ms(m.created_at) ?? start) }}
                    aria-hidden="true"
                  />
                ))}
              </span>
            </li>
          ))}
        </ol>
      </div>
      {markers.length > 0 ? (
        <ol className="waterfall-markers small" aria-label="Operator actions">
          {markers.map((m) => (
            <li key={m.id}>
              <strong>{BOUNDARY[m.action] ?? humanize(m.action)}</strong> <Time iso={m.created_at} /> by {m.actor_name}
              {m.reason ? <>: “{m.reason}”</> : null}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
