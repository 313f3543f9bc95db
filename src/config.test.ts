import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.ts';

test('defaults: embedded database in ./.billflow, port 3000', () => {
  const config = loadConfig({});
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.dataDir, path.resolve('.billflow'));
  assert.equal(config.port, 3000);
  assert.equal(config.worker.leaseMs, 30_000);
});

test('a bad value is refused with the variable named', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty' }),
    (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message),
  );
  assert.throws(() => loadConfig({ BILLFLOW_LEASE_MS: '10' }), /BILLFLOW_LEASE_MS must be an integer from 500/);
  assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
});

test('--port wins over PORT', () => {
  assert.equal(loadConfig({ PORT: '4000' }, { port: 5000 }).port, 5000);
});
