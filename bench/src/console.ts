// `npm run bench -- --console`: the admin console's reads on a large history. `billflow start`
// (the compiled CLI) runs on a fresh PostgreSQL database into which --console-runs terminal runs
// (default 1,000,000, ≈ 5 % failed, 1 % cancelled, spread over 90 days, 5.73 steps each on
// average) and one customer per 50 runs are written straight in SQL. Then each endpoint the
// console polls or opens is called one request at a time, with varied arguments, through HTTP,
// and its p50/p95 latency (as the browser sees it, JSON included) is reported against 50 ms.
import pg from 'pg';
import { startBillflow } from './billflow-process.ts';
import type { BillflowProcess } from './billflow-process.ts';
import { freshTarget } from './targets.ts';

/** Every console read answers within this at the 95th percentile. */
export const CONSOLE_P95_TARGET_MS = 50;

export interface ConsoleSettings {
  runs: number;
  /** Measured requests per endpoint (after a warm-up of a tenth as many). */
  samples: number;
}

export interface EndpointLatency {
  name: string;
  example: string;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
}

export interface ConsoleResult {
  runs: number;
  steps: number;
  failed: number;
  customers: number;
  seed_seconds: number;
  endpoints: EndpointLatency[];
  /** GET /workflows/counts equals a GROUP BY over workflow_runs. */
  counts_exact: boolean;
}

const TYPES = [
  'subscription_creation',
  'subscription_cancellation',
  'payment_success',
  'payment_failure',
  'invoice_creation',
  'refund_creation',
  'chargeback_creation',
  'subscription_plan_change',
];
const STEPS = ['record', 'sync_provider', 'render_document', 'update_stats', 'send_email', 'notify_team'];
const DAY_MS = 86_400_000;
const CHUNK = 100_000;

/** An id of the product's shape (prefix, 12 hex of ms, 16 more hex), from SQL integers. */
const sqlId = (prefix: string, ms: string, n: string) =>
  `'${prefix}_' || lpad(to_hex(${ms}), 12, '0') || lpad(to_hex((${n}) % 65536), 4, '0') || lpad(to_hex(${n}), 12, '0')`;

export async function seed(
  url: string,
  settings: ConsoleSettings,
  now: number,
): Promise<Omit<ConsoleResult, 'endpoints' | 'counts_exact'>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const began = Date.now();
  const customers = Math.max(1, Math.ceil(settings.runs / 50));
  const span = 90 * DAY_MS;
  try {
    await client.query(
      `INSERT INTO customers (id, email, name, status, created_at)
       SELECT ${sqlId('cus', `${now - span}::bigint + c`, 'c')},
              'customer' || c || '@example' || (c % 97) || '.com', 'Customer ' || c, 'active',
              to_timestamp((${now - span}::bigint + c) / 1000.0)
       FROM generate_series(1, $1::int) AS c`,
      [customers],
    );
    for (let from = 1; from <= settings.runs; from += CHUNK) {
      const to = Math.min(settings.runs, from + CHUNK - 1);
      // Run i is created at now - span + i·span/runs: a steady rate over the 90 days, ids in time order.
      // Every 20th run failed at its second step (5 %), every 100th was cancelled (1 %).
      await client.query(
        `WITH r AS (
           SELECT i, (${now - span}::bigint + (i::bigint * ${span}) / $3::bigint) AS ms,
                  CASE WHEN i % 20 = 7 THEN 'failed' WHEN i % 100 = 3 THEN 'cancelled' ELSE 'completed' END AS status,
                  (ARRAY['${TYPES.join("','")}'])[1 + i % ${TYPES.length}] AS type,
                  5 + (i % 100 < 73)::int AS step_count,
                  1 + i % $4::int AS customer
           FROM generate_series($1::int, $2::int) AS i
         )
         INSERT INTO workflow_runs (id, type, status, steps, step_index, attempt, input, subject_ref, owner_ref,
                                    run_at, version, outcome, failed_step, error, created_at, started_at,
                                    updated_at, finished_at, failed_at)
         SELECT ${sqlId('run', 'ms', 'i')}, type, status,
                (ARRAY['${STEPS.join("','")}'])[1:step_count],
                CASE status WHEN 'completed' THEN step_count WHEN 'failed' THEN 1 ELSE 2 END,
                CASE status WHEN 'failed' THEN 5 ELSE 0 END,
                jsonb_build_object('customer_id', ${sqlId('cus', `${now - span}::bigint + customer`, 'customer')},
                                   'amount', 1000 + i % 9000, 'currency', 'USD'),
                ${sqlId('pay', 'ms', 'i')},
                ${sqlId('cus', `${now - span}::bigint + customer`, 'customer')},
                to_timestamp(ms / 1000.0), 1,
                CASE status WHEN 'completed' THEN 'completed' END,
                CASE status WHEN 'failed' THEN 'sync_provider' END,
                CASE status WHEN 'failed' THEN '{"message":"card_declined: Your card was declined.","permanent":true}'::jsonb END,
                to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0), to_timestamp((ms + 900) / 1000.0),
                to_timestamp((ms + 900) / 1000.0),
                CASE status WHEN 'failed' THEN to_timestamp((ms + 900) / 1000.0) END
         FROM r`,
        [from, to, settings.runs, customers],
      );
      await client.query(
        `INSERT INTO workflow_steps (run_id, step_index, name, status, output, attempts, error, started_at,
                                     finished_at, updated_at)
         SELECT r.id, s.n, r.steps[s.n + 1],
                CASE WHEN s.n < r.step_index THEN 'completed'
                     WHEN s.n = r.step_index AND r.status = 'failed' THEN 'failed' ELSE 'pending' END,
                CASE WHEN s.n < r.step_index THEN jsonb_build_object('ok', true, 'step', s.n) END,
                CASE WHEN s.n <= r.step_index AND r.status <> 'cancelled' THEN
                  jsonb_build_array(jsonb_build_object('attempt', 1, 'started_at', r.started_at,
                                                       'ended_at', r.finished_at,
                                                       'outcome', CASE WHEN s.n < r.step_index THEN 'completed' ELSE 'failed' END))
                  ELSE '[]'::jsonb END,
                CASE WHEN s.n = r.step_index AND r.status = 'failed' THEN r.error END,
                CASE WHEN s.n <= r.step_index THEN r.started_at END,
                CASE WHEN s.n < r.step_index THEN r.finished_at END,
                r.updated_at
         FROM workflow_runs r
         CROSS JOIN LATERAL generate_series(0, cardinality(r.steps) - 1) AS s(n)
         WHERE r.id >= ${sqlId('run', `(${now - span}::bigint + ($1::bigint * ${span}) / $3::bigint)`, '$1::bigint')}
           AND r.id <= ${sqlId('run', `(${now - span}::bigint + ($2::bigint * ${span}) / $3::bigint)`, '$2::bigint')}`,
        [from, to, settings.runs],
      );
      console.error(`  seeded ${to} runs (${((Date.now() - began) / 1000).toFixed(0)} s)`);
    }
    // What autovacuum would have done for tables that grew this way over 90 days.
    await client.query('VACUUM ANALYZE workflow_runs');
    await client.query('VACUUM ANALYZE workflow_steps');
    await client.query('VACUUM ANALYZE customers');
    const counted = await client.query<{ runs: string; steps: string; failed: string }>(
      `SELECT (SELECT count(*) FROM workflow_runs) AS runs, (SELECT count(*) FROM workflow_steps) AS steps,
              (SELECT count(*) FROM workflow_runs WHERE status = 'failed') AS failed`,
    );
    const row = counted.rows[0] as { runs: string; steps: string; failed: string };
    return {
      runs: Number(row.runs),
      steps: Number(row.steps),
      failed: Number(row.failed),
      customers,
      seed_seconds: Math.round((Date.now() - began) / 1000),
    };
  } finally {
    await client.end();
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

async function measureEndpoint(
  service: BillflowProcess,
  name: string,
  paths: (i: number) => string,
  samples: number,
): Promise<EndpointLatency> {
  const call = async (path: string): Promise<number> => {
    const began = performance.now();
    const response = await fetch(`${service.base}/api/v1${path}`, { headers: service.headers });
    await response.arrayBuffer();
    const ms = performance.now() - began;
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
    return ms;
  };
  const warmup = Math.max(5, Math.ceil(samples / 10));
  for (let i = 0; i < warmup; i++) await call(paths(samples + i));
  const times: number[] = [];
  for (let i = 0; i < samples; i++) times.push(await call(paths(i)));
  times.sort((a, b) => a - b);
  return {
    name,
    example: paths(0),
    p50_ms: round1(percentile(times, 50)),
    p95_ms: round1(percentile(times, 95)),
    max_ms: round1(times[times.length - 1] ?? NaN),
  };
}

/** Keyset pages 1–5 of a list: the cursor of page k comes from page k-1, read before measuring. */
async function cursors(service: BillflowProcess, path: string, pages: number): Promise<(string | null)[]> {
  const out: (string | null)[] = [null];
  for (let k = 1; k < pages; k++) {
    const cursor = out[k - 1];
    const url = `${service.base}/api/v1${path}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = (await (await fetch(url, { headers: service.headers })).json()) as { next_cursor: string | null };
    out.push(page.next_cursor);
  }
  return out;
}

export async function measureConsole(settings: ConsoleSettings, adminUrl: string): Promise<ConsoleResult> {
  const target = await freshTarget('postgres', 'console', adminUrl);
  let service: BillflowProcess | undefined;
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: target.location };
    // The service migrates the fresh database on start; the history is written under it, as
    // terminal runs its workers leave alone.
    service = await startBillflow(env);
    const now = Date.now();
    const seeded = await seed(target.location, settings, now);
    const client = new pg.Client({ connectionString: target.location });
    await client.connect();
    const sample = async (sql: string, n: number) => (await client.query<{ v: string }>(sql, [n])).rows.map((r) => r.v);
    const runIds = await sample(
      'SELECT id AS v FROM workflow_runs TABLESAMPLE SYSTEM (1) LIMIT $1',
      settings.samples * 2,
    );
    const payIds = await sample(
      'SELECT subject_ref AS v FROM workflow_runs TABLESAMPLE SYSTEM (1) LIMIT $1',
      settings.samples * 2,
    );
    const customerIds = await sample('SELECT id AS v FROM customers ORDER BY random() LIMIT $1', settings.samples * 2);
    const at = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;
    const iso = (ms: number) => new Date(ms).toISOString();
    const s = settings.samples;
    const list = '/workflows?limit=50';
    const inbox = '/workflows?status=failed&sort=failed_desc&limit=50';
    const listPages = await cursors(service, list, 5);
    const inboxPages = await cursors(service, inbox, 5);
    const page = (path: string, pages: (string | null)[], i: number) => {
      const cursor = at(pages, i);
      return cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path;
    };
    const endpoints: EndpointLatency[] = [];
    const measure = async (name: string, paths: (i: number) => string) => {
      const result = await measureEndpoint(service as BillflowProcess, name, paths, s);
      console.error(`  ${name}: p50 ${result.p50_ms} ms, p95 ${result.p95_ms} ms`);
      endpoints.push(result);
    };
    await measure('run list, pages 1–5', (i) => page(list, listPages, i));
    await measure('run list by type and status', (i) => `/workflows?limit=50&type=${at(TYPES, i)}&status=completed`);
    await measure('run list by email prefix', (i) => `/workflows?limit=50&customer_email=customer${1 + (i % 900)}`);
    await measure('failed-runs inbox, pages 1–5', (i) => page(inbox, inboxPages, i));
    await measure('search: partial email', (i) => `/search?q=customer${1 + (i % 900)}`);
    await measure('search: run id', (i) => `/search?q=${at(runIds, i)}`);
    await measure('search: record id', (i) => `/search?q=${at(payIds, i)}`);
    await measure('search: customer id', (i) => `/search?q=${at(customerIds, i)}`);
    await measure('counts (menu badges)', () => '/workflows/counts');
    await measure(
      'activity, 24 h',
      (i) => `/workflows/activity?from=${iso(now - DAY_MS - i * 60_000)}&to=${iso(now - i * 60_000)}`,
    );
    await measure(
      'activity, 7 days',
      (i) => `/workflows/activity?from=${iso(now - 7 * DAY_MS - i * 60_000)}&to=${iso(now - i * 60_000)}`,
    );
    await measure('run detail', (i) => `/workflows/${at(runIds, i)}`);

    const answered = (await (
      await fetch(`${service.base}/api/v1/workflows/counts`, { headers: service.headers })
    ).json()) as { items: { type: string; status: string; count: number }[] };
    const grouped = await client.query<{ type: string; status: string; count: string }>(
      'SELECT type, status, count(*) AS count FROM workflow_runs GROUP BY 1, 2',
    );
    await client.end();
    const key = (t: string, st: string) => `${t}/${st}`;
    const fromApi = new Map(answered.items.filter((c) => c.count !== 0).map((c) => [key(c.type, c.status), c.count]));
    const counts_exact =
      grouped.rows.length === fromApi.size &&
      grouped.rows.every((r) => fromApi.get(key(r.type, r.status)) === Number(r.count));
    return { ...seeded, endpoints, counts_exact };
  } finally {
    await service?.stop();
    await target.dispose();
  }
}

/** The report's lines for the console reads, each against the target. */
export function consoleLines(result: ConsoleResult): string[] {
  const width = Math.max(...result.endpoints.map((e) => e.name.length));
  return [
    '',
    `Console reads on ${result.runs.toLocaleString('en')} runs (${result.steps.toLocaleString('en')} steps, ` +
      `${result.failed.toLocaleString('en')} failed, ${result.customers.toLocaleString('en')} customers; ` +
      `seeded in ${result.seed_seconds} s), one request at a time through HTTP:`,
    `${'endpoint'.padEnd(width)}  p50 ms  p95 ms  max ms  p95 ≤ ${CONSOLE_P95_TARGET_MS} ms`,
    ...result.endpoints.map(
      (e) =>
        `${e.name.padEnd(width)}  ${String(e.p50_ms).padStart(6)}  ${String(e.p95_ms).padStart(6)}  ` +
        `${String(e.max_ms).padStart(6)}  ${e.p95_ms <= CONSOLE_P95_TARGET_MS ? 'met' : 'not met'}`,
    ),
    `counts equal a GROUP BY over the runs: ${result.counts_exact ? 'yes' : 'NO'}`,
  ];
}
