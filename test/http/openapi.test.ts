import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { eachDatabase } from '../helpers/databases.ts';
import { apiHarness } from './support.ts';

eachDatabase((kind) => {
  test('the OpenAPI document validates as 3.1 and lists every route of the table with its security', async () => {
    const h = await apiHarness(kind);
    const response = await h.app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(response.statusCode, 200);
    const doc = response.json();
    assert.equal(doc.openapi, '3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['bearer', 'session']);
    for (const spec of h.routes) {
      const path = `/api/v1${spec.url.replace(/:(\w+)/g, '{$1}')}`;
      const operation = doc.paths[path]?.[spec.method.toLowerCase()];
      assert.ok(operation, `${spec.method} ${path} missing`);
      assert.equal(operation.summary, spec.summary);
      assert.equal(operation.operationId, spec.operationId);
      assert.deepEqual(
        operation.security,
        spec.access === 'public' ? [] : spec.sessionOnly ? [{ session: [] }] : [{ session: [] }, { bearer: [] }],
      );
      for (const status of Object.keys(spec.response)) assert.ok(operation.responses[status], `${path} ${status}`);
    }
    const docs = await h.app.inject({ method: 'GET', url: '/api/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
    await h.app.close();
  });

  test('health and readiness, and errors as problem details for unknown routes, bad JSON and wrong media types', async () => {
    const h = await apiHarness(kind);
    assert.deepEqual((await h.app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
    assert.deepEqual((await h.app.inject({ method: 'GET', url: '/readyz' })).json(), {
      status: 'ready',
      database: kind,
    });
    // The probes take no query: a query string is refused by name, like on every other route.
    const probeQuery = await h.app.inject({ method: 'GET', url: '/readyz?verbose=1' });
    assert.equal(probeQuery.statusCode, 400);
    assert.deepEqual(probeQuery.json().errors, [{ field: 'verbose', message: 'is not a known field' }]);
    const admin = h.apiKey('admin');
    const json = { ...admin, 'content-type': 'application/json' };
    const cases: [InjectOptions, number][] = [
      [{ method: 'GET', url: '/api/v1/nowhere' }, 404],
      [{ method: 'POST', url: '/api/v1/users', headers: json, payload: '{"email":' }, 400],
      [
        { method: 'POST', url: '/api/v1/users', headers: { ...admin, 'content-type': 'text/plain' }, payload: 'hello' },
        415,
      ],
      [{ method: 'POST', url: '/api/v1/users', headers: admin, payload: { email: 'a@b.co', role: 'emperor' } }, 400],
      [{ method: 'POST', url: '/api/v1/users', headers: json, payload: 'x'.repeat(2 * 1024 * 1024) }, 413],
      [{ method: 'GET', url: '/api/v1/audit?limit=0', headers: admin }, 400],
      [{ method: 'GET', url: `/api/v1/users/usr_${'a'.repeat(200)}`, headers: admin }, 414],
    ];
    for (const [options, status] of cases) {
      const r = await h.app.inject(options);
      assert.equal(r.statusCode, status, `${options.url} ${r.body}`);
      assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
      const body = r.json();
      assert.equal(body.status, status);
      assert.ok(body.type && body.title);
    }
    const enumError = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin,
      payload: { email: 'a@b.co', role: 'emperor' },
    });
    assert.deepEqual(enumError.json().errors, [
      { field: 'role', message: 'must be one of admin, developer, account_manager, customer_support, viewer' },
    ]);
    const nul = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin,
      payload: { email: 'a@b.co', role: 'viewer', reason: 'a\u0000b' },
    });
    assert.equal(nul.statusCode, 400);
    assert.deepEqual(nul.json().errors, [{ field: 'reason', message: 'must not contain the NUL character' }]);
    await h.app.close();
  });
});
