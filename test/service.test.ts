import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connect.ts';
import { createLogger, startService } from '../src/main.ts';
import { TEST_DATABASES, eachDatabase, freshDatabase } from './helpers/databases.ts';
import { createApiKey } from '../src/http/auth/api-keys.ts';
import type { RunCompletedEvent } from '../src/engine/index.ts';

// The service is a long-lived process, so it tunes V8 for a small, steady footprint (src/v8-tuning.ts):
// a bounded heap growth always, the WASM compiler settings on the embedded database only; a
// one-shot open leaves the process's V8 flags alone.
test('the service tunes V8 for a steady footprint, and for the embedded database only on it', async (t) => {
  const flags = t.mock.method(v8, 'setFlagsFromString');
  const home = await mkdtemp(path.join(tmpdir(), 'billflow-service-'));
  const env = { BILLFLOW_DATA_DIR: home, LOG_LEVEL: 'error', PORT: '0' };
  try {
    const oneShot = await openDatabase({ dataDir: path.join(home, 'data') });
    await oneShot.close();
    assert.equal(flags.mock.callCount(), 0, "a one-shot open keeps V8's defaults");

    if (TEST_DATABASES.includes('postgres')) {
      const { url } = await freshDatabase('postgres', { migrate: false });
      const config = loadConfig({ ...env, DATABASE_URL: url });
      const onPostgres = await startService(config, createLogger(config), { api: false, workers: true });
      await onPostgres.close();
      assert.deepEqual(
        flags.mock.calls.map((call) => call.arguments),
        [['--heap-growing-percent=30']],
        'the service on PostgreSQL bounds heap growth only',
      );
      flags.mock.resetCalls();
    }

    const config = loadConfig(env);
    const service = await startService(config, createLogger(config), { api: false, workers: true });
    try {
      assert.deepEqual(
        flags.mock.calls.map((call) => call.arguments),
        [['--liftoff-only'], ['--semi-space-growth-factor=1'], ['--heap-growing-percent=15']],
      );
      const { rows } = await service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_runs');
      assert.deepEqual(rows, [{ n: 0 }]);
    } finally {
      await service.close();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

// A process that embeds the service (the benchmark) sees its runs through the engine's hooks.
eachDatabase((kind) => {
  test('an embedder’s engine hooks see a payment started through the API complete', { timeout: 240_000 }, async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'billflow-service-hooks-'));
    const env: Record<string, string> = { BILLFLOW_DATA_DIR: home, LOG_LEVEL: 'error', PORT: '0' };
    if (kind === 'postgres') env.DATABASE_URL = (await freshDatabase('postgres', { migrate: false })).url ?? '';
    const completed: RunCompletedEvent[] = [];
    let seen: (event: RunCompletedEvent) => void = () => {};
    const paymentDone = new Promise<RunCompletedEvent>((resolve) => (seen = resolve));
    const config = loadConfig(env);
    const service = await startService(config, createLogger(config), {
      api: true,
      workers: true,
      hooks: {
        onRunCompleted: (event) => {
          completed.push(event);
          if (event.type === 'payment_success') seen(event);
        },
      },
    });
    try {
      const { key } = await createApiKey(service.db, {
        name: 'embedder',
        role: 'admin',
        expiresAt: null,
        createdBy: null,
        now: new Date(),
      });
      const post = async (url: string, body: unknown) => {
        const response = await fetch(`${service.url}/api/v1${url}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.equal(response.status, 201);
        return (await response.json()) as Record<string, unknown>;
      };
      const { customer } = (await post('/customers', { email: 'hooks@example.com' })) as { customer: { id: string } };
      const started = await post('/payments', {
        customer_id: customer.id,
        amount: 1200,
        currency: 'EUR',
        status: 'succeeded',
      });
      const event = await paymentDone;
      assert.equal(event.runId, started.workflow_run_id);
      assert.deepEqual(
        completed.map((e) => e.type),
        ['payment_success'],
      );
    } finally {
      await service.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
