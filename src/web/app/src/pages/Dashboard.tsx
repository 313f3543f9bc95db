// The dashboard: money (MRR, revenue), run activity by hour and status, failure rates per type.
import { useState } from 'react';
import { client, ok } from '../api.ts';
import { useCan } from '../auth.tsx';
import { LineChart, StackedBarChart } from '../components/charts.tsx';
import { Empty, ErrorNote, Loading, PageHeader } from '../components/ui.tsx';
import { money, timeZoneLabel } from '../format.ts';
import { useApi, useWorkflowTypes } from '../hooks.ts';
import { Link } from '../router.tsx';
import type { TimeSeries } from '../types.ts';

const STATUS_COLORS = [
  { key: 'completed', label: 'Completed', color: '#2f9e6b' },
  { key: 'in_progress', label: 'In progress', color: '#3b82c4' },
  { key: 'pending', label: 'Pending', color: '#9aa5b1' },
  { key: 'failed', label: 'Failed', color: '#d64545' },
  { key: 'cancelled', label: 'Cancelled', color: '#c2a14d' },
];
const LINE_COLORS = ['#3b6fd4', '#2f9e6b', '#c2772e', '#8b5cc2'];

function day(offset: number): string {
  return new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10);
}

/**
 * MRR and revenue drawn in one currency at a time: amounts in different currencies share no
 * axis, so with several the operator picks one, and every label and tooltip uses its symbol.
 */
function MoneyCharts() {
  const from = day(-29);
  const to = day(0);
  const series = (metric: 'mrr' | 'revenue') =>
    ok(client.GET('/api/v1/stats/timeseries', { params: { query: { metric, from, to } } }));
  const mrr = useApi(`mrr:${from}`, () => series('mrr'));
  const revenue = useApi(`rev:${from}`, () => series('revenue'));
  const currencies = [
    ...new Set([...(mrr.data?.series ?? []), ...(revenue.data?.series ?? [])].map((x) => x.currency.toUpperCase())),
  ].sort();
  const [picked, setPicked] = useState<string>();
  const currency = picked && currencies.includes(picked) ? picked : currencies[0];
  const line = (s: TimeSeries | undefined, label: string) => {
    const found = s?.series.find((x) => x.currency.toUpperCase() === currency);
    return found
      ? [
          {
            label,
            color: LINE_COLORS[0] ?? '#3b6fd4',
            points: found.points.map((p) => ({ x: p.day.slice(5), y: p.value })),
          },
        ]
      : [];
  };
  const fmt = (n: number) => money(Math.round(n), currency);
  const chart = (loaded: typeof mrr, label: string, empty: string) => {
    const lines = line(loaded.data, label);
    return (
      <>
        <ErrorNote error={loaded.error} />
        {loaded.data ? (
          lines.length === 0 ? (
            <Empty>{empty}</Empty>
          ) : (
            <LineChart title={`${label} in ${currency}`} series={lines} format={fmt} />
          )
        ) : null}
      </>
    );
  };
  return (
    <>
      {currencies.length > 1 ? (
        <div className="chart-controls">
          <label>
            Currency{' '}
            <select value={currency} onChange={(e) => setPicked(e.target.value)}>
              {currencies.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
        </div>
      ) : null}
      <div className="grid-2">
        <section className="card" aria-label="MRR over time">
          <h2>MRR, last 30 days{currency ? ` (${currency})` : ''}</h2>
          <p className="muted small">Days in UTC.</p>
          {chart(mrr, 'MRR', currency ? `No subscriptions in ${currency}.` : 'No subscriptions yet.')}
        </section>
        <section className="card" aria-label="Revenue over time">
          <h2>Revenue per day{currency ? ` (${currency})` : ''}</h2>
          <p className="muted small">Days in UTC.</p>
          {chart(revenue, 'Revenue', currency ? `No payments in ${currency}.` : 'No payments yet.')}
        </section>
      </div>
    </>
  );
}

function RunCharts() {
  // The last 24 UTC hours, the current one included; the API counts every run in them.
  const since = new Date(Date.now() - 23 * 3600_000);
  since.setUTCMinutes(0, 0, 0);
  const until = new Date(since.getTime() + 24 * 3600_000);
  const { types } = useWorkflowTypes();
  const recent = useApi(
    `run-activity:${since.toISOString()}`,
    () =>
      ok(
        client.GET('/api/v1/workflows/activity', {
          params: { query: { from: since.toISOString(), to: until.toISOString() } },
        }),
      ),
    10_000,
  );
  const counts = useApi('dash-counts', () => ok(client.GET('/api/v1/workflows/counts')), 10_000);
  const hours = Array.from({ length: 24 }, (_, i) => new Date(since.getTime() + i * 3600_000));
  const buckets = hours.map(() => ({}) as Record<string, number>);
  for (const row of recent.data?.items ?? []) {
    const i = Math.round((new Date(row.hour).getTime() - since.getTime()) / 3600_000);
    const b = buckets[i];
    if (b) b[row.status] = (b[row.status] ?? 0) + row.count;
  }
  // Local time; zones offset by a part of an hour show the minutes too.
  const labels = hours.map((h) =>
    h.getMinutes() === 0
      ? `${String(h.getHours()).padStart(2, '0')}h`
      : `${String(h.getHours()).padStart(2, '0')}:${String(h.getMinutes()).padStart(2, '0')}`,
  );
  // An hour without runs has no failure rate: a gap, not 0 %.
  const rate = buckets.map((b, i) => {
    const total = Object.values(b).reduce((s, n) => s + n, 0);
    return { x: labels[i] ?? '', y: total === 0 ? null : Math.round(((b.failed ?? 0) / total) * 100) };
  });
  const byType = (types ?? []).map(({ type, label }) => {
    const rows = counts.data?.items.filter((c) => c.type === type) ?? [];
    const total = rows.reduce((s, c) => s + c.count, 0);
    const failed = rows.filter((c) => c.status === 'failed').reduce((s, c) => s + c.count, 0);
    return { type, label, total, failed };
  });
  return (
    <>
      <div className="grid-2">
        <section className="card" aria-label="Runs per hour">
          <h2>Runs per hour by status</h2>
          <p className="muted small">Hours in {timeZoneLabel()}.</p>
          <ErrorNote error={recent.error} />
          {recent.loading && !recent.data ? <Loading /> : null}
          {recent.data ? (
            <StackedBarChart title="Runs per hour" labels={labels} series={STATUS_COLORS} values={buckets} />
          ) : null}
        </section>
        <section className="card" aria-label="Failure rate">
          <h2>Failure rate per hour</h2>
          <p className="muted small">Hours in {timeZoneLabel()}; no point where no run started.</p>
          {recent.data ? (
            <LineChart
              title="Failure rate"
              series={[{ label: 'failed %', color: '#d64545', points: rate }]}
              format={(n) => `${Math.round(n)}%`}
              max={100}
            />
          ) : null}
        </section>
      </div>
      <section className="card" aria-label="Failed runs by type">
        <h2>Failed runs by type</h2>
        <ErrorNote error={counts.error} />
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Failed</th>
              <th scope="col">All runs</th>
              <th scope="col">Failure rate</th>
            </tr>
          </thead>
          <tbody>
            {byType.map((t) => (
              <tr key={t.type}>
                <td>
                  <Link to={`/workflows/${t.type}`}>{t.label}</Link>
                </td>
                <td>
                  {t.failed > 0 ? (
                    <Link
                      to={`/workflows/${t.type}?status=failed`}
                      className="text-bad"
                      aria-label={`${t.failed} failed ${t.label} runs`}
                    >
                      {t.failed} failed
                    </Link>
                  ) : (
                    <span className="muted">0</span>
                  )}
                </td>
                <td>{t.total}</td>
                <td>
                  <span className="rate-bar" aria-hidden="true">
                    <span style={{ width: `${t.total ? (t.failed / t.total) * 100 : 0}%` }} />
                  </span>{' '}
                  {t.total ? `${((t.failed / t.total) * 100).toFixed(1)}%` : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

export function DashboardPage() {
  const can = useCan();
  const summary = useApi('summary', () => ok(client.GET('/api/v1/stats/summary')), 15_000);
  const s = summary.data;
  return (
    <>
      <PageHeader title="Dashboard" />
      <ErrorNote error={summary.error} />
      <div className="tiles">
        <div className="tile">
          <div className="tile-label">Active subscriptions</div>
          <div className="tile-value">{s ? s.active_subscriptions : '…'}</div>
        </div>
        {(s?.currencies ?? []).map((c) => (
          <div className="tile" key={c.currency}>
            <div className="tile-label">MRR ({c.currency})</div>
            <div className="tile-value">{money(c.mrr ?? 0, c.currency)}</div>
            <div className="tile-sub">Revenue {money(c.revenue ?? 0, c.currency)}</div>
          </div>
        ))}
        <div className="tile">
          <div className="tile-label">Customers</div>
          <div className="tile-value">{s ? Object.values(s.customers).reduce((a, b) => a + b, 0) : '…'}</div>
        </div>
      </div>
      {can('account_manager') ? <RunCharts /> : null}
      <MoneyCharts />
    </>
  );
}
