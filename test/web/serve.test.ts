// The UI server plugin on its own: 503 until built, SPA fallback, caching, reserved paths.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import { webRoutes } from '../../src/web/serve.ts';

test('web plugin: 503 before the build, then index.html for client routes and cached hashed assets', async () => {
  const distDir = mkdtempSync(path.join(os.tmpdir(), 'billflow-dist-'));
  const app = Fastify();
  app.get('/api/v1/ping', async () => ({ pong: true }));
  await app.register(webRoutes, { distDir });
  try {
    const before = await app.inject({ url: '/customers' });
    assert.equal(before.statusCode, 503);
    assert.match(before.body, /admin UI has not been built/);
    assert.match(before.body, /npm run build:web/);

    mkdirSync(path.join(distDir, 'assets'));
    writeFileSync(path.join(distDir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(distDir, 'assets', 'index-abc123.js'), 'console.log(1)');

    for (const url of ['/', '/runs/run_1', '/settings/api-keys?x=1']) {
      const page = await app.inject({ url });
      assert.equal(page.statusCode, 200, url);
      assert.match(page.body, /id="root"/);
      assert.equal(page.headers['cache-control'], 'no-cache');
    }
    const asset = await app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal((await app.inject({ url: '/assets/gone-999.js' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/../../etc/passwd' })).body.includes('root:'), false);

    assert.deepEqual((await app.inject({ url: '/api/v1/ping' })).json(), { pong: true });
    for (const url of ['/api/v1/nope', '/api', '/webhooks/stripe', '/healthz', '/readyz']) {
      assert.equal((await app.inject({ url })).statusCode, 404, url);
    }
  } finally {
    await app.close();
    rmSync(distDir, { recursive: true, force: true });
  }
});
