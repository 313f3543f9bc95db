// The audit log as operators read it: filtered by date range, by an actor named the way people
// know them (a user's email, an API key's name, the command line's OS user) and by action; the
// filter choices come from what the log holds; a bulk operation names who started it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { recordAudit } from '../../src/http/audit.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { apiHarness } from './support.ts';

interface Entry {
  id: string;
  at: string;
  actor: string;
  actor_name: string;
  action: string;
  target: string | null;
}

eachDatabase((kind) => {
  test('the audit log filters by actor email, key name or OS user, by action and by date range', async () => {
    const h = await apiHarness(kind);
    const admin = await h.session('admin');
    const { row: record } = await createApiKey(h.db, {
      name: 'ci',
      role: 'developer',
      expiresAt: null,
      createdBy: h.users.admin.id,
      now: new Date('2026-03-01T09:00:00Z'),
    });
    const seed: [string, string, string][] = [
      [`user:${h.users.admin.id}`, 'workflow.restart', '2026-03-02T10:00:00Z'],
      [`user:${h.users.developer.id}`, 'workflow.cancel', '2026-03-03T10:00:00Z'],
      [`api_key:${record.id}`, 'workflow.restart', '2026-03-04T10:00:00Z'],
      ['cli:ops', 'user.create', '2026-03-05T10:00:00Z'],
    ];
    for (const [actor, action, at] of seed) {
      await recordAudit(h.db, { actor, action, target: 'run_x', at: new Date(at) });
    }
    const get = async (query: string) => {
      const res = await h.app.inject({ method: 'GET', url: `/api/v1/audit?limit=200&${query}`, headers: admin });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items as Entry[];
    };

    const byEmail = await get(`actor=${encodeURIComponent(h.users.admin.email.toUpperCase())}&target=run_x`);
    assert.deepEqual(
      byEmail.map((e) => [e.actor, e.actor_name, e.action]),
      [[`user:${h.users.admin.id}`, h.users.admin.email, 'workflow.restart']],
    );
    const byKey = await get('actor=ci');
    assert.deepEqual(
      byKey.map((e) => [e.actor, e.actor_name]),
      [[`api_key:${record.id}`, 'API key "ci"']],
    );
    const byOsUser = await get('actor=ops');
    assert.deepEqual(
      byOsUser.map((e) => [e.actor, e.actor_name]),
      [['cli:ops', 'ops (command line)']],
    );
    const raw = await get(`actor=user:${h.users.developer.id}`);
    assert.deepEqual(
      raw.map((e) => e.action),
      ['workflow.cancel'],
    );
    assert.deepEqual(await get('actor=nobody@example.com'), []);

    // Action and date range combine; `from` inclusive, `to` exclusive.
    const ranged = await get('action=workflow.restart&from=2026-03-02T10:00:00Z&to=2026-03-04T10:00:00Z');
    assert.deepEqual(
      ranged.map((e) => e.actor),
      [`user:${h.users.admin.id}`],
    );
    const window = await get('target=run_x&from=2026-03-03T00:00:00Z&to=2026-03-05T00:00:00Z');
    assert.deepEqual(
      window.map((e) => e.at),
      ['2026-03-04T10:00:00.000Z', '2026-03-03T10:00:00.000Z'],
    );
    const bad = await h.app.inject({ method: 'GET', url: '/api/v1/audit?from=yesterday', headers: admin });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /from/);
    const empty = await h.app.inject({ method: 'GET', url: '/api/v1/audit?actor=', headers: admin });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /actor/);
    await h.app.close();
  });

  test('the filter choices are the actions and actors the log holds, with counts and names', async () => {
    const h = await apiHarness(kind);
    const admin = await h.session('admin');
    await recordAudit(h.db, { actor: 'cli:ops', action: 'user.create', at: new Date('2026-03-05T10:00:00Z') });
    await recordAudit(h.db, {
      actor: `user:${h.users.admin.id}`,
      action: 'workflow.restart',
      at: new Date('2026-03-05T11:00:00Z'),
    });
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/audit/facets', headers: admin });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as {
      actions: { action: string; count: number }[];
      actors: { actor: string; actor_name: string; count: number }[];
    };
    const stored = await h.db.query<{ action: string; count: number }>(
      'SELECT action, count(*)::int AS count FROM audit_log GROUP BY action ORDER BY action',
    );
    assert.deepEqual(body.actions, stored.rows);
    const actors = await h.db.query<{ actor: string; count: number }>(
      'SELECT actor, count(*)::int AS count FROM audit_log GROUP BY actor',
    );
    assert.deepEqual(
      body.actors.map((a) => [a.actor, a.count]).sort(),
      actors.rows.map((a) => [a.actor, a.count]).sort(),
    );
    assert.equal(body.actors.find((a) => a.actor === 'cli:ops')?.actor_name, 'ops (command line)');
    assert.equal(body.actors.find((a) => a.actor === `user:${h.users.admin.id}`)?.actor_name, h.users.admin.email);
    const developer = await h.session('developer');
    const denied = await h.app.inject({ method: 'GET', url: '/api/v1/audit/facets', headers: developer });
    assert.equal(denied.statusCode, 403);
    await h.app.close();
  });

  test('a bulk operation names who started it by email', async () => {
    const h = await apiHarness(kind);
    const manager = await h.session('account_manager');
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/workflows/bulk-restart',
      headers: manager,
      payload: { filter: { type: 'payment_success' }, dry_run: false, reason: 'smtp back' },
    });
    assert.equal(started.statusCode, 200, started.body);
    const id = started.json().operation_id as string;
    const op = await h.app.inject({ method: 'GET', url: `/api/v1/workflow-operations/${id}`, headers: manager });
    assert.equal(op.statusCode, 200);
    assert.equal(op.json().actor, `user:${h.users.account_manager.id}`);
    assert.equal(op.json().actor_name, h.users.account_manager.email);
    const stored = await h.db.query<{ actor: string }>('SELECT actor FROM workflow_operations WHERE id = $1', [id]);
    assert.equal(stored.rows[0]?.actor, `user:${h.users.account_manager.id}`);
    await h.app.close();
  });
});
