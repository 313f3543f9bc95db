// Security headers over HTTP: the Content-Security-Policy on the API, the UI and the API docs,
// framing refused, and Strict-Transport-Security only on HTTPS (a trusted proxy's word counts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { buildServer } from '../../src/http/server.ts';
import { webRoutes } from '../../src/web/serve.ts';
import type { ServerOptions } from '../../src/http/server.ts';
import { freshDatabase } from '../helpers/databases.ts';

function csp(response: LightMyRequestResponse): Map<string, string[]> {
  const header = String(response.headers['content-security-policy'] ?? '');
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name as string, values]),
  );
}

// Headers involve no query: one database (of one kind) serves every server of the file.
let database: ReturnType<typeof freshDatabase> | undefined;

async function server(options: Partial<ServerOptions> = {}, web = false) {
  database ??= freshDatabase('pglite');
  const app = buildServer({ db: (await database).db, ...options });
  if (web) await app.register(webRoutes, { distDir: '/nonexistent/billflow-dist' });
  await app.ready();
  return app;
}

test('every response carries a strict policy: own scripts and styles only, no framing, no plugins', async () => {
  const app = await server();
  for (const url of ['/api/v1/auth/session', '/api/openapi.json', '/no/such/page']) {
    const response = await app.inject({ url });
    const policy = csp(response);
    assert.deepEqual(policy.get('default-src'), ["'self'"], url);
    assert.deepEqual(policy.get('script-src'), ["'self'"], url);
    assert.deepEqual(policy.get('script-src-attr'), ["'none'"], url);
    assert.deepEqual(policy.get('style-src'), ["'self'"], url);
    assert.deepEqual(policy.get('frame-ancestors'), ["'none'"], url);
    assert.deepEqual(policy.get('object-src'), ["'none'"], url);
    assert.deepEqual(policy.get('base-uri'), ["'self'"], url);
    assert.deepEqual(policy.get('form-action'), ["'self'"], url);
    // A plain-HTTP install on a LAN address must keep loading its own assets.
    assert.equal(policy.has('upgrade-insecure-requests'), false, url);
    assert.equal(response.headers['x-frame-options'], 'DENY', url);
    assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
    assert.equal(response.headers['referrer-policy'], 'no-referrer', url);
    assert.equal(response.headers['strict-transport-security'], undefined, `${url}: no HSTS over HTTP`);
  }
  await app.close();
});

test('Swagger UI at /api/docs works under the policy: inline styles allowed there, scripts still own only', async () => {
  const app = await server();
  const page = await app.inject({ url: '/api/docs/' });
  assert.equal(page.statusCode, 200);
  assert.doesNotMatch(page.body, /<script>|<script [^>]*>[^<\s]/, 'no inline script in the docs page');
  const policy = csp(page);
  assert.deepEqual(policy.get('style-src'), ["'self'", "'unsafe-inline'"]);
  assert.deepEqual(policy.get('script-src'), ["'self'"]);
  assert.deepEqual(policy.get('frame-ancestors'), ["'none'"]);
  const initializer = await app.inject({ url: '/api/docs/static/swagger-initializer.js' });
  assert.equal(initializer.statusCode, 200);
  // Elsewhere the API keeps the strict policy.
  assert.deepEqual(csp(await app.inject({ url: '/api/openapi.json' })).get('style-src'), ["'self'"]);
  await app.close();
});

test('the "UI not built" page allows its own inline style by hash, and nothing else inline', async () => {
  const app = await server({}, true);
  const page = await app.inject({ url: '/' });
  assert.equal(page.statusCode, 503);
  const style = /<style>([^<]*)<\/style>/.exec(page.body)?.[1] ?? '';
  const hash = createHash('sha256').update(style).digest('base64');
  const policy = csp(page);
  assert.deepEqual(policy.get('style-src'), [`'sha256-${hash}'`]);
  assert.deepEqual(policy.get('script-src'), ["'self'"]);
  assert.deepEqual(policy.get('frame-ancestors'), ["'none'"]);
  await app.close();
});

test('HSTS: only over HTTPS, where a forwarded protocol counts only from a trusted proxy; 0 turns it off', async () => {
  const https = { 'x-forwarded-proto': 'https' };
  const trusted = await server({ trustProxy: true });
  assert.equal(
    (await trusted.inject({ url: '/healthz', headers: https })).headers['strict-transport-security'],
    'max-age=15552000',
  );
  assert.equal((await trusted.inject({ url: '/healthz' })).headers['strict-transport-security'], undefined);
  await trusted.close();

  const untrusted = await server();
  assert.equal(
    (await untrusted.inject({ url: '/healthz', headers: https })).headers['strict-transport-security'],
    undefined,
    'a client cannot claim HTTPS',
  );
  await untrusted.close();

  const configured = await server({ trustProxy: true, securityHeaders: { hstsMaxAgeSeconds: 31_536_000 } });
  assert.equal(
    (await configured.inject({ url: '/healthz', headers: https })).headers['strict-transport-security'],
    'max-age=31536000',
  );
  await configured.close();

  const off = await server({ trustProxy: true, securityHeaders: { hstsMaxAgeSeconds: 0 } });
  assert.equal((await off.inject({ url: '/healthz', headers: https })).headers['strict-transport-security'], undefined);
  await off.close();
});
