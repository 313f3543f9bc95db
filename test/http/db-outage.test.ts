// The database going away under a running API: every call answers 503 problem+json with
// Retry-After (never 500), stores nothing, and the API answers again once the database is back.
// Real outages: PostgreSQL sessions terminated and new ones refused, a TCP path to PostgreSQL
// cut, a pool that gets no connection in time, the embedded database closed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { connectPostgres } from '../../src/db/postgres.ts';
import { wrapPglite } from '../../src/db/pglite.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { Db } from '../../src/db/types.ts';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { buildServer } from '../../src/http/server.ts';
import { billingRegistry } from '../../src/billing/workflows/index.ts';
import { createEmailTransport } from '../../src/notify/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { ADMIN_URL, TEST_DATABASES } from '../helpers/databases.ts';

interface Served {
  app: FastifyInstance;
  auth: Record<string, string>;
}

async function serve(db: Db): Promise<Served> {
  const now = () => new Date('2026-03-01T10:00:00Z');
  const notify = { email: createEmailTransport({ from: 'billing@example.com' }), fetch: globalThis.fetch, clock: now };
  const provider = createSandboxProvider({ db, now });
  const billing = { registry: billingRegistry({ db, provider, notify }), provider, notify };
  const app = buildServer({ db, clock: now, publicUrl: 'http://billflow.test', billing });
  await app.ready();
  const { key } = await createApiKey(db, { name: 'ops', role: 'admin', expiresAt: null, createdBy: null, now: now() });
  return { app, auth: { authorization: `Bearer ${key}` } };
}

function listCustomers(s: Served): Promise<LightMyRequestResponse> {
  return s.app.inject({ method: 'GET', url: '/api/v1/customers', headers: s.auth });
}

function createCustomer(s: Served, email: string): Promise<LightMyRequestResponse> {
  return s.app.inject({ method: 'POST', url: '/api/v1/customers', headers: s.auth, payload: { email } });
}

function assertUnavailable(res: LightMyRequestResponse, what: string): void {
  assert.equal(res.statusCode, 503, `${what}: ${res.statusCode} ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/, what);
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter > 0, `${what}: Retry-After ${res.headers['retry-after']}`);
  const body = res.json() as { status: number; title: string; detail: string };
  assert.equal(body.status, 503);
  assert.equal(body.title, 'Service unavailable');
  assert.match(body.detail, /database is unavailable/);
}

async function customerCount(db: Db): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
  return rows[0]?.n ?? -1;
}

/** A TCP path to the PostgreSQL server that the test can cut and restore. */
class Proxy {
  private server: net.Server | undefined;
  private sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  /** Refuses new connections and cuts the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server?.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

const postgres = TEST_DATABASES.includes('postgres');

describe('postgres', { skip: !postgres && 'PostgreSQL not reachable' }, () => {
  const name = `billflow_outage_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const toClose: Db[] = [];
  let control: Db;

  before(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    control = connectPostgres({ connectionString: url.toString(), maxConnections: 2 });
    await migrate(control);
  });
  after(async () => {
    await Promise.all(toClose.map((db) => db.close().catch(() => {})));
    await control.close().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  test('sessions terminated and new connections refused: 503 with Retry-After, then served again', async () => {
    const db = connectPostgres({ connectionString: url.toString(), maxConnections: 4 });
    toClose.push(db);
    const s = await serve(db);
    assert.equal((await createCustomer(s, 'before@example.com')).statusCode, 201);
    assert.equal((await listCustomers(s)).statusCode, 200);

    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    try {
      // The pool's idle connections were terminated and new ones are refused.
      assertUnavailable(await listCustomers(s), 'GET while refused');
      assertUnavailable(await createCustomer(s, 'during@example.com'), 'POST while refused');
      assertUnavailable(await listCustomers(s), 'GET again while refused');
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    }
    assert.equal((await listCustomers(s)).statusCode, 200);
    assert.equal((await createCustomer(s, 'after@example.com')).statusCode, 201);
    const { rows } = await control.query<{ email: string }>('SELECT email FROM customers ORDER BY email');
    assert.deepEqual(
      rows.map((r) => r.email),
      ['after@example.com', 'before@example.com'],
    );
    await s.app.close();
  });

  test('the network path to PostgreSQL cut: 503 with Retry-After, then served again', async () => {
    const target = new URL(ADMIN_URL);
    const proxy = new Proxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.open();
    const viaProxy = new URL(url.toString());
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const db = connectPostgres({ connectionString: viaProxy.toString(), maxConnections: 4 });
    toClose.push(db);
    const s = await serve(db);
    const before = await customerCount(control);
    assert.equal((await listCustomers(s)).statusCode, 200);

    await proxy.cut();
    // Open connections cut mid-way ("Connection terminated"), then new ones refused (ECONNREFUSED).
    assertUnavailable(await listCustomers(s), 'GET after the cut');
    assertUnavailable(await createCustomer(s, 'cut@example.com'), 'POST after the cut');
    assertUnavailable(await listCustomers(s), 'GET while refused');

    await proxy.open();
    assert.equal((await listCustomers(s)).statusCode, 200);
    assert.equal(await customerCount(control), before, 'nothing was stored during the outage');
    await s.app.close();
    await proxy.cut();
  });

  test('a pool that gets no connection in time: 503 with Retry-After, then served again', async () => {
    const db = connectPostgres({ connectionString: url.toString(), maxConnections: 1, connectionTimeoutMs: 300 });
    toClose.push(db);
    const s = await serve(db);
    assert.equal((await listCustomers(s)).statusCode, 200);
    // A long transaction holds the pool's only connection.
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = () => {};
    const held = new Promise<void>((resolve) => (holding = resolve));
    const long = db.transaction(async (tx) => {
      await tx.query('SELECT 1');
      holding();
      await gate;
    });
    await held;
    try {
      assertUnavailable(await listCustomers(s), 'GET with the pool exhausted');
    } finally {
      release();
      await long;
    }
    assert.equal((await listCustomers(s)).statusCode, 200);
    await s.app.close();
  });
});

describe('pglite', { skip: !TEST_DATABASES.includes('pglite') && 'not selected' }, () => {
  test('the embedded database closed: 503 with Retry-After, nothing stored', async () => {
    const pglite = await PGlite.create();
    const db = wrapPglite(pglite);
    await migrate(db);
    const s = await serve(db);
    assert.equal((await createCustomer(s, 'before@example.com')).statusCode, 201);
    await pglite.close();
    assertUnavailable(await listCustomers(s), 'GET after close');
    assertUnavailable(await createCustomer(s, 'after@example.com'), 'POST after close');
    await s.app.close();
  });
});
