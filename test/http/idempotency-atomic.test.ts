// The database goes away right after a create's work committed, before the server could store
// the answer for its Idempotency-Key. Retried with the same key once the database is back, the
// request answers with what was created the first time: the record exists once, never twice,
// and never "already exists" (409) for the client's own first attempt.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Db, Queryable, QueryOptions } from '../../src/db/types.ts';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { buildServer } from '../../src/http/server.ts';
import { billingRegistry } from '../../src/billing/workflows/index.ts';
import { createEmailTransport } from '../../src/notify/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';

/**
 * `db`, except that once a statement inserting into `table` has committed (on its own, or with
 * the transaction around it), every later call fails as a lost connection does, until `restore`.
 */
function outageAfterInsert(db: Db): { db: Db; arm(table: string): void; restore(): void } {
  let armed: RegExp | null = null;
  let down = false;
  const lost = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
  const writes = (sql: string) => armed !== null && armed.test(sql);
  const wrapped: Db = {
    kind: db.kind,
    async query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
      if (down) throw lost();
      const result = await db.query<R>(sql, params, options);
      if (writes(sql)) down = true;
      return result;
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      if (down) throw lost();
      let wrote = false;
      const result = await db.transaction((tx) =>
        fn({
          query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
            if (writes(sql)) wrote = true;
            return tx.query<R>(sql, params, options);
          },
        }),
      );
      if (wrote) down = true;
      return result;
    },
    exec: (sql) => db.exec(sql),
    notify: (channel, payload) => db.notify(channel, payload),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    presence: () => db.presence(),
    isPresent: (presence) => db.isPresent(presence),
    close: () => db.close(),
  };
  return {
    db: wrapped,
    arm(table) {
      armed = new RegExp(`INSERT INTO ${table}\\b`);
    },
    restore() {
      armed = null;
      down = false;
    },
  };
}

const CREATES = [
  { table: 'customers', url: '/customers', body: { email: 'once@example.com' }, id: (b: Body) => b.customer?.id },
  {
    table: 'plans',
    url: '/plans',
    body: { code: 'once', name: 'Once', amount: 900, currency: 'EUR', interval: 'month' },
    id: (b: Body) => b.plan?.id,
  },
  {
    table: 'users',
    url: '/users',
    body: { email: 'new-admin@example.com', role: 'viewer' },
    id: (b: Body) => b.user?.id,
  },
  {
    table: 'slack_endpoints',
    url: '/slack-endpoints',
    body: { name: 'ops', url: 'https://hooks.slack.test/once' },
    id: (b: Body) => b.id,
  },
  {
    table: 'api_keys',
    url: '/api-keys',
    body: { name: 'reports', role: 'viewer' },
    id: (b: Body) => b.api_key?.id,
  },
];

interface Body {
  id?: string;
  customer?: { id: string };
  plan?: { id: string };
  user?: { id: string };
  api_key?: { id: string };
  detail?: string;
}

eachDatabase((kind) => {
  describe('a create whose answer was lost after its work committed', () => {
    let raw: Db;
    let outage: ReturnType<typeof outageAfterInsert>;
    let app: FastifyInstance;
    let auth: Record<string, string>;
    before(async () => {
      raw = (await freshDatabase(kind)).db;
      outage = outageAfterInsert(raw);
      const now = () => new Date('2026-03-01T10:00:00Z');
      const notify = {
        email: createEmailTransport({ from: 'billing@example.com' }),
        fetch: globalThis.fetch,
        clock: now,
      };
      const provider = createSandboxProvider({ db: raw, now });
      const billing = { registry: billingRegistry({ db: raw, provider, notify }), provider, notify };
      app = buildServer({ db: outage.db, clock: now, publicUrl: 'http://billflow.test', billing });
      await app.ready();
      const { key } = await createApiKey(raw, {
        name: 'ops',
        role: 'admin',
        expiresAt: null,
        createdBy: null,
        now: now(),
      });
      auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    });
    after(() => app.close());

    for (const create of CREATES) {
      it(`POST ${create.url}: the retry replays the first answer; one row is stored`, async () => {
        const key = `lost-answer-${create.table}`;
        const send = () =>
          app.inject({
            method: 'POST',
            url: `/api/v1${create.url}`,
            headers: { ...auth, 'idempotency-key': key },
            payload: create.body,
          });
        const before = await count(raw, create.table);
        outage.arm(create.table);
        const first = await send();
        outage.restore();
        assert.equal(first.statusCode, 503, `the outage answers 503: ${first.body}`);

        const retry = await send();
        const body = retry.json<Body>();
        assert.equal(retry.statusCode, 201, `${retry.statusCode} ${body.detail ?? ''}`);
        assert.equal(await count(raw, create.table), before + 1, `one ${create.table} row was created`);
        const id = create.id(body);
        assert.ok(id, 'the answer names the record');
        const { rows } = await raw.query(`SELECT 1 FROM ${create.table} WHERE id = $1`, [id]);
        assert.equal(rows.length, 1, 'the answer names the stored record');
        const again = await send();
        assert.equal(again.statusCode, 201);
        assert.equal(again.headers['idempotent-replayed'], 'true');
        assert.equal(create.id(again.json<Body>()), id);
      });
    }
  });
});

async function count(db: Db, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? -1;
}
