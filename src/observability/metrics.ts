// Prometheus metrics: counters fed by the engine's and notify's hooks, histograms of step attempts
// and HTTP requests, gauges read from the database at scrape time, and the process's own metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/types.ts';
import { RUN_STATUSES, countRuns } from '../engine/index.ts';
import type { ActionResult, EngineHooks, StartHooks, StepAttemptEvent } from '../engine/index.ts';
import type { AlertEvent, SendEvent, WebhookAttemptEvent } from '../notify/index.ts';

export interface MetricsOptions {
  /** For the gauges read from the database (runs per status, oldest failure, claim lag). */
  db?: Db;
  /** The workflow types, so that a status with no run reads 0 rather than vanishing. */
  types?: readonly string[];
  /** How long one reading of the database gauges serves scrapes. Default 5 s. */
  cacheMs?: number;
  /** Process metrics (CPU, memory, event loop, GC). Default true. */
  processMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** For the worker: attempts, completions, failures, takeovers. */
  readonly engineHooks: EngineHooks;
  /** For the registry: runs started in this process. */
  readonly startHooks: StartHooks;
  onSend(event: SendEvent): void;
  onAlert(event: AlertEvent): void;
  /** An outgoing event webhook's delivery attempt, once recorded. */
  onWebhookAttempt(event: WebhookAttemptEvent): void;
  /** An operator action on a run that took effect (cancellations are counted per type). */
  onRunAction(result: Pick<ActionResult, 'action' | 'type'>): void;
  observeRequest(labels: { method: string; route: string; statusCode: number }, seconds: number): void;
  /** The runs this process's worker is executing, sampled at each scrape. */
  watchWorker(worker: { activeCount(): number }): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

// Seconds. Steps range from a local write (~1 ms) to a provider call (seconds) to a timeout (minutes).
const STEP_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const HTTP_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// Ages on the database clock. Claim lag: how long the oldest run that a worker could take has
// been due (pending, woken, or left by a worker whose lease expired). A keyed run queued behind
// its key's holder is not claimable, so it is not lag; of keyed runs only the 100 due longest are
// looked at, which bounds the cost when many queue behind busy keys.
const AGES = `
  SELECT
    (SELECT extract(epoch FROM now() - min(failed_at))::float8 FROM workflow_runs
     WHERE status = 'failed') AS oldest_failed,
    (SELECT extract(epoch FROM now() - min(run_at))::float8 FROM workflow_runs
     WHERE status IN ('pending', 'in_progress') AND concurrency_key IS NULL AND run_at <= now()) AS unkeyed_lag,
    (SELECT extract(epoch FROM now() - min(k.run_at))::float8
     FROM (SELECT id, run_at, concurrency_key, key_seq FROM workflow_runs
           WHERE status IN ('pending', 'in_progress') AND concurrency_key IS NOT NULL AND run_at <= now()
           ORDER BY run_at LIMIT 100) k
     WHERE billflow_waiting_for(k.id, k.concurrency_key, k.key_seq) IS NULL) AS keyed_lag,
    (SELECT count(*)::int FROM webhook_deliveries WHERE status = 'pending') AS webhooks_pending,
    (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM webhook_deliveries
     WHERE status = 'pending') AS webhooks_oldest,
    (SELECT extract(epoch FROM last_run_at)::float8 FROM stripe_catch_up) AS catch_up_last_run,
    (SELECT last_found FROM stripe_catch_up) AS catch_up_found,
    (SELECT (last_error IS NOT NULL)::int FROM stripe_catch_up) AS catch_up_failing`;

interface DbReading {
  counts: { type: string; status: string; count: number }[];
  oldestFailed: number;
  claimLag: number;
  webhooksPending: number;
  webhooksOldest: number;
  /** The Stripe catch-up's last pass; absent when it never ran (Stripe is not the provider). */
  catchUp?: { lastRun: number; found: number; failing: number };
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const started = new Counter({
    name: 'billflow_runs_started_total',
    help: 'Runs started by this process, per workflow type.',
    labelNames: ['type'],
    registers,
  });
  const completed = new Counter({
    name: 'billflow_runs_completed_total',
    help: 'Runs that reached completed in this process, per workflow type.',
    labelNames: ['type'],
    registers,
  });
  const failed = new Counter({
    name: 'billflow_runs_failed_total',
    help: 'Runs that reached failed in this process, per workflow type and the step they stopped at.',
    labelNames: ['type', 'step'],
    registers,
  });
  const cancelled = new Counter({
    name: 'billflow_runs_cancelled_total',
    help: 'Runs cancelled by an operator through this process, per workflow type.',
    labelNames: ['type'],
    registers,
  });
  const attempts = new Histogram({
    name: 'billflow_step_attempt_duration_seconds',
    help: 'Step attempts, from their start until their result was recorded, per workflow type and step.',
    labelNames: ['type', 'step'],
    buckets: STEP_BUCKETS,
    registers,
  });
  const retries = new Counter({
    name: 'billflow_step_retries_total',
    help: 'Step attempts that failed and were scheduled to be tried again, per workflow type and step.',
    labelNames: ['type', 'step'],
    registers,
  });
  const takeovers = new Counter({
    name: 'billflow_lease_takeovers_total',
    help: 'Runs this process took over from a worker whose lease had expired, per workflow type.',
    labelNames: ['type'],
    registers,
  });
  const alerts = new Counter({
    name: 'billflow_alerts_raised_total',
    help: 'Failure alerts raised, per workflow type and what became of their delivery.',
    labelNames: ['type', 'delivery'],
    registers,
  });
  const sends = new Counter({
    name: 'billflow_message_sends_total',
    help: 'Emails, Slack messages and webhooks, per channel and outcome (sent, possible_duplicate, failed, already_sent).',
    labelNames: ['channel', 'outcome'],
    registers,
  });
  const webhookAttempts = new Counter({
    name: 'billflow_webhook_attempts_total',
    help: 'Outgoing event webhook attempts, per outcome (delivered, retry_scheduled, gave_up).',
    labelNames: ['outcome'],
    registers,
  });
  const webhookLatency = new Histogram({
    name: 'billflow_webhook_attempt_duration_seconds',
    help: 'Outgoing event webhook requests, from sending until the answer or the timeout.',
    buckets: HTTP_BUCKETS,
    registers,
  });
  const endpointsDisabled = new Counter({
    name: 'billflow_webhook_endpoints_disabled_total',
    help: 'Webhook endpoints disabled after failing every delivery for 5 days.',
    registers,
  });
  const requests = new Histogram({
    name: 'billflow_http_request_duration_seconds',
    help: 'HTTP requests, per method, route and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: HTTP_BUCKETS,
    registers,
  });

  const workers: { activeCount(): number }[] = [];
  new Gauge({
    name: 'billflow_worker_active_runs',
    help: "Runs this process's worker is executing.",
    registers,
    collect() {
      this.set(workers.reduce((sum, w) => sum + w.activeCount(), 0));
    },
  });

  const db = options.db;
  if (db) {
    const cacheMs = options.cacheMs ?? 5_000;
    const types = options.types ?? [];
    let reading: Promise<DbReading | undefined> | undefined;
    let readAt = 0;
    const read = () => {
      if (!reading || Date.now() - readAt >= cacheMs) {
        readAt = Date.now();
        reading = readDatabase(db).catch(() => {
          // A scrape still answers (process metrics) while the database is away; the gauges
          // are left out rather than stale, and the next scrape tries again.
          readAt = 0;
          return undefined;
        });
      }
      return reading;
    };
    new Gauge({
      name: 'billflow_runs',
      help: 'Runs per workflow type and status; the same in every process of a database.',
      labelNames: ['type', 'status'],
      registers,
      async collect() {
        const now = await read();
        this.reset();
        if (!now) return;
        for (const type of types) for (const status of RUN_STATUSES) this.set({ type, status }, 0);
        for (const row of now.counts) this.set({ type: row.type, status: row.status }, row.count);
      },
    });
    new Gauge({
      name: 'billflow_oldest_failed_run_age_seconds',
      help: 'Age of the oldest failed run (0 when none); the same in every process of a database.',
      registers,
      async collect() {
        const now = await read();
        this.reset();
        if (now) this.set(now.oldestFailed);
      },
    });
    new Gauge({
      name: 'billflow_claim_lag_seconds',
      help: 'How long the oldest run a worker could take has been due without being taken (0 when none).',
      registers,
      async collect() {
        const now = await read();
        this.reset();
        if (now) this.set(now.claimLag);
      },
    });
    new Gauge({
      name: 'billflow_webhook_deliveries_pending',
      help: 'Outgoing webhook messages not yet delivered to an endpoint (due or scheduled for a retry).',
      registers,
      async collect() {
        const now = await read();
        this.reset();
        if (now) this.set(now.webhooksPending);
      },
    });
    new Gauge({
      name: 'billflow_webhook_oldest_pending_age_seconds',
      help: 'Age of the oldest outgoing webhook message still pending (0 when none).',
      registers,
      async collect() {
        const now = await read();
        this.reset();
        if (now) this.set(now.webhooksOldest);
      },
    });
    const catchUpGauge = (name: string, help: string, value: (c: NonNullable<DbReading['catchUp']>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const now = await read();
          this.reset();
          if (now?.catchUp) this.set(value(now.catchUp));
        },
      });
    catchUpGauge(
      'billflow_stripe_catch_up_last_run_timestamp_seconds',
      'When the last Stripe Events API catch-up pass ended (unix seconds); 0 when none ran.',
      (c) => c.lastRun,
    );
    catchUpGauge(
      'billflow_stripe_catch_up_last_found',
      'Events the last catch-up pass found missing from the ledger and handled.',
      (c) => c.found,
    );
    catchUpGauge(
      'billflow_stripe_catch_up_failing',
      '1 when the last catch-up pass failed (its error is in GET /api/v1/stripe-events/catch-up), else 0.',
      (c) => c.failing,
    );
  }

  // Label lookups hash the label set on every call; the hot path keeps each series' child.
  const attemptSeries = new Map<string, { duration: Histogram.Internal<'type' | 'step'> }>();
  function onStepAttempt(event: StepAttemptEvent): void {
    const key = `${event.type}\u0000${event.step}`;
    let series = attemptSeries.get(key);
    if (!series) {
      series = { duration: attempts.labels(event.type, event.step) };
      attemptSeries.set(key, series);
    }
    series.duration.observe(event.durationMs / 1000);
    if (event.outcome === 'retrying') retries.inc({ type: event.type, step: event.step });
  }

  return {
    registry,
    engineHooks: {
      onStepAttempt,
      onRunCompleted: (event) => completed.inc({ type: event.type }),
      onRunFailed: (event) => failed.inc({ type: event.type, step: event.step }),
      onLeaseTakeover: (event) => takeovers.inc({ type: event.type }),
    },
    startHooks: {
      onRunStarted: (event) => started.inc({ type: event.type }),
    },
    onSend: (event) => sends.inc({ channel: event.channel, outcome: event.outcome }),
    onAlert: (event) => alerts.inc({ type: event.type, delivery: event.delivery }),
    onWebhookAttempt(event) {
      webhookAttempts.inc({ outcome: event.outcome });
      webhookLatency.observe(event.latencyMs / 1000);
      if (event.endpointDisabled) endpointsDisabled.inc();
    },
    onRunAction(result) {
      if (result.action === 'cancel') cancelled.inc({ type: result.type });
    },
    observeRequest(labels, seconds) {
      requests.observe({ method: labels.method, route: labels.route, status_code: labels.statusCode }, seconds);
    },
    watchWorker(worker) {
      workers.push(worker);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

async function readDatabase(db: Db): Promise<DbReading> {
  // From the counters the engine keeps (migration 0016): the same cost at any history size.
  const counts = await countRuns(db);
  const ages = await db.query<{
    oldest_failed: number | null;
    unkeyed_lag: number | null;
    keyed_lag: number | null;
    webhooks_pending: number;
    webhooks_oldest: number | null;
    catch_up_last_run: number | null;
    catch_up_found: number | null;
    catch_up_failing: number | null;
  }>(AGES, [], { name: 'billflow_metrics_ages' });
  const row = ages.rows[0];
  return {
    counts,
    oldestFailed: Math.max(0, row?.oldest_failed ?? 0),
    claimLag: Math.max(0, row?.unkeyed_lag ?? 0, row?.keyed_lag ?? 0),
    webhooksPending: row?.webhooks_pending ?? 0,
    webhooksOldest: Math.max(0, row?.webhooks_oldest ?? 0),
    ...(row?.catch_up_last_run != null
      ? {
          catchUp: {
            lastRun: row.catch_up_last_run,
            found: row.catch_up_found ?? 0,
            failing: row.catch_up_failing ?? 0,
          },
        }
      : {}),
  };
}
