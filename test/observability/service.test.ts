import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config.ts';
import { startService } from '../../src/main.ts';
import type { Service } from '../../src/main.ts';
import { createLogger } from '../../src/observability/index.ts';
import { TEST_DATABASES, eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { parseMetrics, valueOf } from './support.ts';

const TOKEN = 'worker-metrics-token-0123456789';
const root = path.resolve(import.meta.dirname, '../..');

/** The environment of a service on `kind`: a PostgreSQL schema of its own, or an embedded folder. */
async function serviceEnv(kind: (typeof TEST_DATABASES)[number], home: string): Promise<Record<string, string>> {
  const env: Record<string, string> = { BILLFLOW_DATA_DIR: home, BILLFLOW_POLL_INTERVAL_MS: '50' };
  if (kind === 'postgres') env.DATABASE_URL = (await freshDatabase('postgres', { migrate: false })).url as string;
  return env;
}

/** Polls until `check` holds: the worker is a real one, running on its own timers. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

eachDatabase((kind) => {
  test('billflow worker: /metrics, /healthz and /readyz on BILLFLOW_METRICS_PORT; a failure is logged and counted', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'billflow-metrics-'));
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      format: 'json',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
          done();
        },
      }),
    });
    let service: Service | undefined;
    try {
      const config = loadConfig({
        ...(await serviceEnv(kind, home)),
        BILLFLOW_METRICS_PORT: '0',
        BILLFLOW_METRICS_TOKEN: TOKEN,
      });
      service = await startService(config, logger, { api: false, workers: true });
      assert.equal(service.url, undefined, 'no API port');
      const base = service.metricsUrl;
      assert.ok(base, 'the metrics port listens');

      assert.deepEqual(await (await fetch(`${base}/healthz`)).json(), { status: 'ok' });
      assert.deepEqual(await (await fetch(`${base}/readyz`)).json(), { status: 'ready', database: kind });
      const refused = await fetch(`${base}/metrics`);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer/);
      const scrape = async () => {
        const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
        assert.equal(response.status, 200);
        return parseMetrics(await response.text());
      };
      const first = await scrape();
      // Every workflow type has its series from the start; the process's own metrics are there.
      assert.equal(valueOf(first, 'billflow_runs', { type: 'subscription_creation', status: 'failed' }), 0);
      assert.equal(valueOf(first, 'billflow_worker_active_runs'), 0);
      assert.ok((valueOf(first, 'process_resident_memory_bytes') ?? 0) > 0);

      // A run pinned to a step this version does not have fails at once.
      await service.db.query(
        `INSERT INTO workflow_runs (id, type, steps, input) VALUES ('run_obsolete1', 'chargeback_creation', ARRAY['gone_step'], '{}')`,
      );
      service.db.notify('billflow_runs', '');
      const failed = await eventually(async () => {
        const samples = await scrape();
        const failures = valueOf(samples, 'billflow_runs_failed_total', {
          type: 'chargeback_creation',
          step: 'gone_step',
        });
        const alerts = valueOf(samples, 'billflow_alerts_raised_total', {
          type: 'chargeback_creation',
          delivery: 'in_app_only',
        });
        // The database gauges are read at most every few seconds.
        const gauged = valueOf(samples, 'billflow_runs', { type: 'chargeback_creation', status: 'failed' });
        return failures === 1 && alerts === 1 && gauged === 1 ? samples : undefined;
      }, 'the failure and its alert on /metrics');
      assert.equal(
        valueOf(failed, 'billflow_step_attempt_duration_seconds_count', {
          type: 'chargeback_creation',
          step: 'gone_step',
        }),
        1,
      );

      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const runFailed = logged.filter((l) => l.msg === 'run failed');
      assert.equal(runFailed.length, 1);
      assert.equal(runFailed[0]?.level, 50);
      assert.equal(runFailed[0]?.runId, 'run_obsolete1');
      assert.equal(runFailed[0]?.type, 'chargeback_creation');
      assert.equal(runFailed[0]?.step, 'gone_step');
      assert.equal(runFailed[0]?.attempt, 1);
      assert.match(String((runFailed[0]?.err as { message?: string }).message), /not defined in this version/);
      assert.equal(logged.filter((l) => l.msg === 'step attempt failed' && l.level === 40).length, 1);
    } finally {
      await service?.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});

test('the OpenTelemetry SDK is loaded only when an OTLP endpoint is set', async () => {
  const kind = TEST_DATABASES.includes('postgres') ? 'postgres' : 'pglite';
  const loaded = async (extra: Record<string, string>) => {
    const home = await mkdtemp(path.join(tmpdir(), 'billflow-otel-'));
    try {
      const env = { ...process.env, ...(await serviceEnv(kind, home)), LOG_LEVEL: 'error', ...extra };
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'test/observability/fixtures/loaded-modules.ts'],
        { cwd: root, env, timeout: 120_000 },
      );
      return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  };
  const without = await loaded({});
  assert.deepEqual(
    without.filter((name) => name !== '@opentelemetry/api'),
    [],
    'only the API, which prom-client uses',
  );
  const withEndpoint = await loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
  assert.ok(withEndpoint.includes('@opentelemetry/sdk-trace'), withEndpoint.join(', '));
  assert.ok(withEndpoint.includes('@opentelemetry/exporter-trace-otlp-http'));
});
