import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase } from '../helpers/databases.ts';
import { apiHarness, problemOf, snapshot } from './support.ts';
import type { Harness } from './support.ts';

// The custom-step routes: what they store and audit, and bad input refused naming the field.

const BASE = '/api/v1/workflow-types/payment_success/custom-steps';
const valid = {
  name: 'crm_sync',
  url: 'https://hooks.example.com/crm',
  after: 'record_payment',
  reason: 'sync the CRM',
};

async function call(h: Harness, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  return h.app.inject({ method, url, headers: await h.session('developer'), ...(payload ? { payload } : {}) });
}

interface Listing {
  sequence: { kind: string; name: string; custom?: { enabled: boolean; version: number } }[];
  items: { name: string; version: number; after: string; enabled: boolean }[];
}

eachDatabase((kind) => {
  test('bad input is a 400 naming the field, and changes nothing', async () => {
    const h = await apiHarness(kind);
    await h.session('developer');
    const before = await snapshot(h.db);
    const cases: [string, string, object][] = [
      ['type', '/api/v1/workflow-types/no_such_type/custom-steps', valid],
      ['after', BASE, { ...valid, after: 'no_such_step' }],
      ['url', BASE, { ...valid, url: 'not a url' }],
      ['url', BASE, { ...valid, url: 'http://hooks.example.com/plain-http' }],
      ['url', BASE, { ...valid, url: 'https://127.0.0.1/hook' }],
      ['url', BASE, { ...valid, url: 'https://169.254.169.254/latest/meta-data' }],
      ['url', BASE, { ...valid, url: 'https://10.0.0.1/hook' }],
      ['timeout_ms', BASE, { ...valid, timeout_ms: '1000' }],
      ['timeout_ms', BASE, { ...valid, timeout_ms: 50 }],
      ['method', BASE, { ...valid, method: 'GET' }],
      ['name', BASE, { ...valid, name: 'Not Snake' }],
      ['reason', BASE, { ...valid, reason: undefined }],
    ];
    for (const [field, url, body] of cases) {
      const response = await call(h, 'POST', url, body);
      assert.equal(response.statusCode, 400, `${field}: ${response.body}`);
      const fields = (problemOf(response).errors ?? []).map((e) => e.field);
      assert.ok(
        fields.some((f) => f === field || f.endsWith(`.${field}`) || f.endsWith(`/${field}`)),
        `${field}: ${response.body}`,
      );
    }
    assert.deepEqual(await snapshot(h.db), before);
    await h.app.close();
  });

  test('insert, move, disable and delete: versions stored, each audited with its reason', async () => {
    const h = await apiHarness(kind);
    const created = await call(h, 'POST', BASE, { ...valid, method: 'PATCH', timeout_ms: 5000 });
    assert.equal(created.statusCode, 201, created.body);
    const body = created.json() as { step: Record<string, unknown>; secret: string };
    assert.match(body.secret, /^whsec_/);
    assert.equal(body.step.pinned_name, 'custom:crm_sync:1');
    assert.equal(body.step.method, 'PATCH');
    assert.deepEqual(body.step.retry, { max_attempts: 5, initial_delay_ms: 1000, max_delay_ms: 300000 });
    assert.ok(!('secret' in body.step));

    const duplicate = await call(h, 'POST', BASE, valid);
    assert.equal(duplicate.statusCode, 409);

    let listing = (await call(h, 'GET', BASE)).json() as Listing;
    assert.deepEqual(
      listing.sequence.map((s) => s.name),
      ['record_payment', 'crm_sync', 'generate_receipt', 'update_stats', 'send_customer_email', 'send_internal_notice'],
    );
    assert.ok(!JSON.stringify(listing).includes(body.secret), 'the secret is shown once only');

    const moved = await call(h, 'PATCH', `${BASE}/crm_sync`, { after: 'update_stats', reason: 'after the stats' });
    assert.equal(moved.statusCode, 200, moved.body);
    const badMove = await call(h, 'PATCH', `${BASE}/crm_sync`, { after: 'nowhere', reason: 'x' });
    assert.equal(badMove.statusCode, 400);
    assert.deepEqual(
      (problemOf(badMove).errors ?? []).map((e) => e.field),
      ['after'],
    );
    const disabled = await call(h, 'PATCH', `${BASE}/crm_sync`, { enabled: false, reason: 'pause it' });
    assert.equal(disabled.statusCode, 200, disabled.body);
    listing = (await call(h, 'GET', BASE)).json() as Listing;
    const slot = listing.sequence.findIndex((s) => s.name === 'crm_sync');
    assert.equal(listing.sequence[slot - 1]?.name, 'update_stats');
    assert.deepEqual(listing.items, [
      { ...listing.items[0], name: 'crm_sync', version: 3, after: 'update_stats', enabled: false },
    ]);

    assert.equal((await call(h, 'PATCH', `${BASE}/nobody`, { enabled: true, reason: 'x' })).statusCode, 404);
    assert.equal((await call(h, 'DELETE', `${BASE}/crm_sync`, {})).statusCode, 400);
    const deleted = await call(h, 'DELETE', `${BASE}/crm_sync`, { reason: 'not needed' });
    assert.equal(deleted.statusCode, 200, deleted.body);
    listing = (await call(h, 'GET', BASE)).json() as Listing;
    assert.deepEqual(listing.items, []);
    assert.equal(listing.sequence.length, 5);

    const { rows: versions } = await h.db.query<{ version: number; change: string; after_step: string }>(
      `SELECT version, change, after_step FROM custom_step_versions WHERE name = 'crm_sync' ORDER BY version`,
    );
    assert.deepEqual(versions, [
      { version: 1, change: 'create', after_step: 'record_payment' },
      { version: 2, change: 'update', after_step: 'update_stats' },
      { version: 3, change: 'update', after_step: 'update_stats' },
      { version: 4, change: 'delete', after_step: 'update_stats' },
    ]);
    const { rows: audit } = await h.db.query<{ action: string; target: string; reason: string; actor: string }>(
      `SELECT action, target, reason, actor FROM audit_log WHERE action LIKE 'custom_step.%' ORDER BY at, id`,
    );
    assert.deepEqual(
      audit.map((a) => [a.action, a.target, a.reason]),
      [
        ['custom_step.create', 'payment_success:crm_sync', 'sync the CRM'],
        ['custom_step.update', 'payment_success:crm_sync', 'after the stats'],
        ['custom_step.update', 'payment_success:crm_sync', 'pause it'],
        ['custom_step.delete', 'payment_success:crm_sync', 'not needed'],
      ],
    );
    assert.ok(audit.every((a) => a.actor === `user:${h.users.developer.id}`));

    // A new step of a deleted one's name starts a new version: a pinned name is never reused.
    const again = await call(h, 'POST', BASE, valid);
    assert.equal((again.json() as { step: { pinned_name: string } }).step.pinned_name, 'custom:crm_sync:5');

    for (const role of ['viewer', 'customer_support', 'account_manager'] as const) {
      const refused = await h.app.inject({
        method: 'POST',
        url: BASE,
        headers: h.apiKey(role),
        payload: { ...valid, name: 'other' },
      });
      assert.equal(refused.statusCode, 403, role);
    }
    await h.app.close();
  });
});
