import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connect.ts';
import { createLogger, startService } from '../src/main.ts';
import { TEST_DATABASES, freshDatabase } from './helpers/databases.ts';

// The service keeps the embedded database open for long, so it tunes V8 for a small footprint
// (docs/performance.md, change 12); a one-shot open and the service on
// PostgreSQL leave the process's V8 flags alone.
test('only the service on the embedded database tunes V8 for it', async (t) => {
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
      assert.equal(flags.mock.callCount(), 0, "the service on PostgreSQL keeps V8's defaults");
    }

    const config = loadConfig(env);
    const service = await startService(config, createLogger(config), { api: false, workers: true });
    try {
      assert.deepEqual(
        flags.mock.calls.map((call) => call.arguments),
        [['--liftoff-only'], ['--semi-space-growth-factor=1'], ['--heap-growing-percent=30']],
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
