import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/types.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { allowed, apiHarness, problemOf, send, snapshot } from './support.ts';

async function auditCount(db: Db, action: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE action = $1', [
    action,
  ]);
  return rows[0]?.n ?? 0;
}

// Messages of the framework's own refusals, to tell them from a handler's answer on public routes.
const GUARD_REFUSAL =
  /authentication required|API key is invalid|needs the .* role|needs a signed-in user|x-csrf-token/;

eachDatabase((kind) => {
  test('every route of the table, as every role, anonymously and with a revoked key', async () => {
    const h = await apiHarness(kind);
    let checked = 0;
    let refused = 0;
    const auditedActions = new Set<string>();
    for (const spec of h.routes) {
      for (const caller of h.callers) {
        const headers = await caller.headers();
        const before = await snapshot(h.db);
        const audited = spec.audit ? await auditCount(h.db, spec.audit) : 0;
        const response = await send(h.app, spec, headers);
        const where = `${spec.method} ${spec.url} as ${caller.label} → ${response.statusCode} ${response.body}`;
        assert.ok(response.statusCode < 500, where);
        if (allowed(spec, caller)) {
          assert.ok(
            ![401, 403].includes(response.statusCode) || !GUARD_REFUSAL.test(problemOf(response).detail ?? ''),
            where,
          );
          if (spec.access !== 'public') assert.ok(![401, 403].includes(response.statusCode), where);
          // An operator action that went through is in the audit log.
          if (spec.audit && response.statusCode < 300) {
            assert.equal(await auditCount(h.db, spec.audit), audited + 1, `not audited: ${where}`);
            auditedActions.add(spec.audit);
          }
        } else {
          refused++;
          const expected = caller.kind === 'anonymous' || caller.kind === 'revoked_key' ? 401 : 403;
          assert.equal(response.statusCode, expected, where);
          assert.match(String(response.headers['content-type']), /application\/problem\+json/, where);
          assert.deepEqual(await snapshot(h.db), before, `state changed on refusal: ${where}`);
        }
        checked++;
      }
    }
    console.log(
      `# role matrix (${kind}): ${checked} requests over ${h.routes.length} routes, ${refused} refused; ` +
        `audited on success: ${[...auditedActions].sort().join(', ')}`,
    );
    assert.ok(refused > 50);
    await h.app.close();
  });

  test('a cookie-authenticated write without the CSRF token is refused and changes nothing', async () => {
    const h = await apiHarness(kind);
    const headers = await h.session('admin');
    const spec = h.routes.find((r) => r.method === 'POST' && r.url === '/api-keys');
    assert.ok(spec);
    const before = await snapshot(h.db);
    for (const csrf of [undefined, 'wrong', `${headers['x-csrf-token']}x`]) {
      const response = await send(
        h.app,
        spec,
        { cookie: headers.cookie as string, ...(csrf ? { 'x-csrf-token': csrf } : {}) },
        {
          body: { name: 'ci', role: 'viewer' },
        },
      );
      assert.equal(response.statusCode, 403);
      assert.match(problemOf(response).detail ?? '', /x-csrf-token/);
    }
    assert.deepEqual(await snapshot(h.db), before);
    // Reads need no token; the right token lets the write through.
    const list = await h.app.inject({
      method: 'GET',
      url: '/api/v1/api-keys',
      headers: { cookie: headers.cookie as string },
    });
    assert.equal(list.statusCode, 200);
    const ok = await send(h.app, spec, headers, { body: { name: 'ci', role: 'viewer' } });
    assert.equal(ok.statusCode, 201);
    await h.app.close();
  });
});
