// Request bodies are taken as sent: a wrong JSON type is a 400 naming the field and the expected
// type, never a converted value, and a body of any depth is a 4xx, never a 5xx. Every write route
// of the route table is tried, so a route added later is covered without editing this file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import type { JsonSchema, RouteSpec } from '../../src/http/route.ts';
import { API_PREFIX } from '../../src/http/route.ts';
import { buildServer } from '../../src/http/server.ts';
import { stripeWebhookRoutes } from '../../src/http/stripe-webhook.ts';
import { billingRegistry } from '../../src/billing/workflows/index.ts';
import { createEmailTransport } from '../../src/notify/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { MAX_JSON_DEPTH } from '../../src/http/json-depth.ts';
import type { Db } from '../../src/db/types.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { signEvent, stripeEvent } from '../fixtures/stripe-events/events.ts';
import { NO_RATE_LIMITS, apiHarness, sampleOf, snapshot, urlOf } from './support.ts';
import type { Harness } from './support.ts';

type Segment = string | number;
interface Problem {
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
}

const DEEP = 5000;
const deepArray = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

/** `['lines', 0, 'amount']` → `lines[0].amount`, the way problem details name a field. */
function fieldName(path: Segment[]): string {
  return path.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

function typesOf(schema: JsonSchema): string[] {
  const type = schema.type;
  if (Array.isArray(type)) return type as string[];
  return typeof type === 'string' ? [type] : [];
}

/** Every field a body schema declares, nested objects and array items included. */
function fieldsOf(schema: JsonSchema, path: Segment[] = []): { path: Segment[]; schema: JsonSchema }[] {
  const out: { path: Segment[]; schema: JsonSchema }[] = [];
  if (path.length > 0) out.push({ path, schema });
  const types = typesOf(schema);
  if (types.includes('object')) {
    for (const [name, sub] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
      out.push(...fieldsOf(sub, [...path, name]));
    }
  }
  if (types.includes('array') && schema.items && typeof schema.items === 'object') {
    out.push(...fieldsOf(schema.items as JsonSchema, [...path, 0]));
  }
  return out;
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function allows(types: string[], value: unknown): boolean {
  const t = jsonTypeOf(value);
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

/** Values of another JSON type than `schema` takes: the conversions a coercing validator makes. */
function wrongValues(schema: JsonSchema): { label: string; value: unknown }[] {
  const types = typesOf(schema);
  const sample = sampleOf(schema);
  const candidates = [
    { label: 'boolean', value: true },
    { label: 'string-for-number', value: '1000' },
    { label: 'number-for-string', value: 42 },
    { label: 'array-for-scalar', value: [sample ?? 1] },
    { label: 'object', value: {} },
    { label: 'null', value: null },
  ];
  return candidates.filter((c) => !allows(types, c.value));
}

/** A copy of `body` with `value` at `path`, creating plausible containers on the way. */
function withValueAt(body: unknown, schema: JsonSchema, path: Segment[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [Segment, ...Segment[]];
  if (typeof head === 'number') {
    const items = schema.items as JsonSchema;
    const list = Array.isArray(body) ? [...(body as unknown[])] : [];
    if (list.length === 0) list.push(sampleOf(items));
    list[head] = withValueAt(list[head], items, rest, value);
    return list;
  }
  const sub = ((schema.properties ?? {}) as Record<string, JsonSchema>)[head] ?? {};
  const object = body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...body } : {};
  const current = (object as Record<string, unknown>)[head];
  (object as Record<string, unknown>)[head] = withValueAt(current ?? sampleOf(sub), sub, rest, value);
  return object;
}

async function callerHeaders(h: Harness, spec: RouteSpec): Promise<Record<string, string>> {
  return spec.sessionOnly ? { ...(await h.session('admin')) } : { ...h.apiKey('admin') };
}

// Path parameters whose schema has a pattern but no example (the body is what is under test here).
const PARAM_SAMPLES: Record<string, string> = { locale: 'en' };

function post(h: Harness, spec: RouteSpec, headers: Record<string, string>, payload: string) {
  const params = { ...(sampleOf(spec.params) as Record<string, unknown> | undefined) };
  for (const name of Object.keys(params)) if (name in PARAM_SAMPLES) params[name] = PARAM_SAMPLES[name];
  return h.app.inject({
    method: spec.method,
    url: urlOf(spec, params),
    headers: { ...headers, 'content-type': 'application/json' },
    payload,
  });
}

function describeResponse(res: LightMyRequestResponse): string {
  return `${res.statusCode} ${res.body.slice(0, 300)}`;
}

async function count(db: Db, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? 0;
}

eachDatabase((kind) => {
  describe('strict request bodies', () => {
    let h: Harness;
    let writeRoutes: RouteSpec[];
    before(async () => {
      h = await apiHarness(kind, { rateLimits: NO_RATE_LIMITS });
      writeRoutes = h.routes.filter((r) => r.method !== 'GET');
    });
    after(async () => {
      await h.app.close();
    });

    test('the route table holds every write operation the served OpenAPI document lists', async () => {
      const doc = (await h.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
        paths: Record<string, Record<string, unknown>>;
      };
      const served = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => ['post', 'put', 'patch', 'delete'].includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      );
      const table = writeRoutes.map((r) => `${r.method} ${API_PREFIX}${r.url.replace(/:(\w+)/g, '{$1}')}`);
      assert.deepEqual([...served].sort(), [...table].sort());
      assert.ok(writeRoutes.length >= 30, `only ${writeRoutes.length} write routes`);
    });

    test('every field of every write route: a wrong JSON type is a 400 naming it and its type; nothing stored', async () => {
      const failures: string[] = [];
      let cases = 0;
      for (const spec of writeRoutes) {
        if (!spec.body) continue;
        const headers = await callerHeaders(h, spec);
        const base = sampleOf(spec.body);
        const before = await snapshot(h.db);
        for (const field of fieldsOf(spec.body)) {
          const types = typesOf(field.schema);
          if (types.length === 0) continue;
          const name = fieldName(field.path);
          const expected = `must be ${types.join(' or ')}`;
          for (const wrong of wrongValues(field.schema)) {
            cases++;
            const body = withValueAt(base, spec.body, field.path, wrong.value);
            const res = await post(h, spec, headers, JSON.stringify(body));
            const where = `${spec.method} ${spec.url} ${name}=${JSON.stringify(wrong.value)} (${wrong.label})`;
            if (res.statusCode !== 400) {
              failures.push(`${where} → ${describeResponse(res)}`);
              continue;
            }
            const problem = res.json() as Problem;
            const named = problem.errors?.some((e) => e.field === name && e.message === expected);
            if (!named || !problem.detail?.includes(`${name}: ${expected}`)) {
              failures.push(`${where} → 400 without "${name}: ${expected}": ${res.body.slice(0, 300)}`);
            }
          }
        }
        const after = await snapshot(h.db);
        if (JSON.stringify(after) !== JSON.stringify(before)) {
          failures.push(`${spec.method} ${spec.url}: a wrong-type request changed the database`);
        }
      }
      console.log(`# wrong types (${kind}): ${cases} requests over ${writeRoutes.length} write routes`);
      assert.ok(cases >= 300, `only ${cases} wrong-type cases`);
      assert.deepEqual(failures, []);
    });

    test(`every write route: a body nested ${DEEP} levels deep is a 400 naming the depth; nothing stored`, async () => {
      const failures: string[] = [];
      let cases = 0;
      const deep = deepArray(DEEP);
      for (const spec of writeRoutes) {
        const headers = await callerHeaders(h, spec);
        const props = Object.keys((spec.body?.properties ?? {}) as Record<string, unknown>);
        // The whole body, and (where the body is an object) each of its fields.
        const payloads: { field: string; payload: string }[] = [
          { field: 'body', payload: deep },
          ...props.map((p) => ({ field: p, payload: `{${JSON.stringify(p)}:${deep}}` })),
        ];
        const before = await snapshot(h.db);
        for (const { field, payload } of payloads) {
          cases++;
          const res = await post(h, spec, headers, payload);
          const where = `${spec.method} ${spec.url} ${field} ${DEEP} deep`;
          if (res.statusCode >= 500) failures.push(`${where} → ${describeResponse(res)}`);
          else if (res.statusCode !== 400) failures.push(`${where} → ${describeResponse(res)} (expected 400)`);
          else {
            const problem = res.json() as Problem;
            const error = problem.errors?.find((e) => e.field === field);
            if (!error || !/deeper than 32 levels/.test(error.message)) {
              failures.push(`${where} → 400 not naming ${field} and the depth: ${res.body.slice(0, 300)}`);
            }
          }
        }
        const after = await snapshot(h.db);
        if (JSON.stringify(after) !== JSON.stringify(before)) {
          failures.push(`${spec.method} ${spec.url}: a deep body changed the database`);
        }
      }
      console.log(`# deep bodies (${kind}): ${cases} requests over ${writeRoutes.length} write routes`);
      assert.deepEqual(failures, []);
    });

    test(`the depth limit: ${MAX_JSON_DEPTH} levels are accepted, one more is not`, async () => {
      assert.equal(MAX_JSON_DEPTH, 32);
      const spec = writeRoutes.find((r) => r.url === '/notifications/read-all') as RouteSpec;
      const headers = await callerHeaders(h, spec);
      const ok = await post(h, spec, headers, deepArray(MAX_JSON_DEPTH));
      assert.equal(ok.statusCode, 200, ok.body);
      const objects = `${'{"a":'.repeat(MAX_JSON_DEPTH - 1)}[1]${'}'.repeat(MAX_JSON_DEPTH - 1)}`;
      assert.equal((await post(h, spec, headers, objects)).statusCode, 200);
      const refused = await post(h, spec, headers, deepArray(MAX_JSON_DEPTH + 1));
      assert.equal(refused.statusCode, 400, refused.body);
      assert.match(String(refused.headers['content-type']), /application\/problem\+json/);
      assert.deepEqual((refused.json() as Problem).errors, [
        { field: 'body', message: 'must not nest arrays and objects deeper than 32 levels' },
      ]);
      // Brackets inside strings are text, not nesting.
      const text = await post(h, spec, headers, JSON.stringify({ a: '['.repeat(DEEP) }));
      assert.equal(text.statusCode, 200, text.body);
    });

    test('issue 14: the reported bodies are refused by field and type, and correct ones stored as sent', async () => {
      const key = h.apiKey('admin');
      const call = (method: 'POST', url: string, body: unknown) =>
        h.app.inject({ method, url: `${API_PREFIX}${url}`, headers: key, payload: body as object });
      const customer = await call('POST', '/customers', { email: 'ada@example.com', name: 'Ada' });
      assert.equal(customer.statusCode, 201, customer.body);
      const customerId = (customer.json() as { customer: { id: string } }).customer.id;

      const payments = await count(h.db, 'payments');
      for (const amount of [true, '1000', [1000], null, 10.5]) {
        const res = await call('POST', '/payments', {
          customer_id: customerId,
          amount,
          currency: 'EUR',
          status: 'succeeded',
        });
        assert.equal(res.statusCode, 400, `amount ${JSON.stringify(amount)}: ${res.body}`);
        assert.equal((res.json() as Problem).detail, 'amount: must be integer');
      }
      assert.equal(await count(h.db, 'payments'), payments, 'a refused payment was stored');
      const paid = await call('POST', '/payments', {
        customer_id: customerId,
        amount: 1000,
        currency: 'EUR',
        status: 'succeeded',
      });
      assert.equal(paid.statusCode, 201, paid.body);
      const { rows: stored } = await h.db.query<{ amount: string }>(
        'SELECT amount::text AS amount FROM payments WHERE customer_id = $1',
        [customerId],
      );
      assert.deepEqual(
        stored.map((r) => r.amount),
        ['1000'],
      );

      const invoices = await count(h.db, 'invoices');
      const stringLine = await call('POST', '/invoices', {
        customer_id: customerId,
        currency: 'EUR',
        lines: [{ description: 'Seats', amount: '250', quantity: '2' }],
      });
      assert.equal(stringLine.statusCode, 400, stringLine.body);
      assert.deepEqual((stringLine.json() as Problem).errors, [
        { field: 'lines[0].amount', message: 'must be integer' },
        { field: 'lines[0].quantity', message: 'must be integer' },
      ]);
      assert.equal(await count(h.db, 'invoices'), invoices, 'a refused invoice was stored');
      const invoice = await call('POST', '/invoices', {
        customer_id: customerId,
        currency: 'EUR',
        lines: [{ description: 'Seats', amount: 250, quantity: 2 }],
      });
      assert.equal(invoice.statusCode, 201, invoice.body);
      assert.equal((invoice.json() as { invoice: { total: number } }).invoice.total, 500);

      const customers = await count(h.db, 'customers');
      const numberName = await call('POST', '/customers', { email: 'bob@example.com', name: 12345 });
      assert.equal(numberName.statusCode, 400, numberName.body);
      assert.equal((numberName.json() as Problem).detail, 'name: must be string');
      const numberEmail = await call('POST', '/customers', { email: 42 });
      assert.equal(numberEmail.statusCode, 400, numberEmail.body);
      assert.equal((numberEmail.json() as Problem).detail, 'email: must be string');
      assert.equal(await count(h.db, 'customers'), customers, 'a refused customer was stored');
      const named = await call('POST', '/customers', { email: 'bob@example.com', name: '12345' });
      assert.equal(named.statusCode, 201, named.body);
      const { rows: names } = await h.db.query<{ name: string }>('SELECT name FROM customers WHERE email = $1', [
        'bob@example.com',
      ]);
      assert.deepEqual(names, [{ name: '12345' }]);
    });

    test('query strings still convert their text to the declared types', async () => {
      const res = await h.app.inject({
        method: 'GET',
        url: `${API_PREFIX}/audit?limit=2`,
        headers: h.apiKey('admin'),
      });
      assert.equal(res.statusCode, 200, res.body);
      const bad = await h.app.inject({
        method: 'GET',
        url: `${API_PREFIX}/audit?limit=two`,
        headers: h.apiKey('admin'),
      });
      assert.equal(bad.statusCode, 400);
      assert.equal((bad.json() as Problem).errors?.[0]?.field, 'limit');
    });
  });

  describe('POST /webhooks/stripe with deep bodies', () => {
    const SECRET = 'whsec_test_billflow_depth_0123456789';
    let app: FastifyInstance;
    let db: Db;
    const clock = testClock(new Date('2026-03-01T10:00:00Z'));
    before(async () => {
      db = (await freshDatabase(kind)).db;
      const notify = {
        email: createEmailTransport({ from: 'billing@example.com' }),
        fetch: globalThis.fetch,
        clock: clock.now,
      };
      const provider = createSandboxProvider({ db, now: clock.now });
      const registry = billingRegistry({ db, provider, notify });
      // Mounted as main.ts mounts it: on the API server, beside the REST routes.
      app = buildServer({
        db,
        clock: clock.now,
        publicUrl: 'http://billflow.test',
        billing: { registry, provider, notify },
      });
      await app.register(stripeWebhookRoutes, { db, registry, webhookSecret: SECRET, now: clock.now });
      await app.ready();
    });
    after(async () => {
      await app.close();
    });

    test('a signed or unsigned event nested thousands of levels deep is a 400 and records nothing', async () => {
      const event = stripeEvent('customer.created') as unknown as Record<string, unknown>;
      const data = event.data as Record<string, unknown>;
      const object = data.object as Record<string, unknown>;
      const deepEvent = JSON.stringify({
        ...event,
        data: { ...data, object: { ...object, metadata: '__DEEP__' } },
      }).replace('"__DEEP__"', deepArray(DEEP));
      const before = await snapshot(db);
      const signed = signEvent(deepEvent, SECRET, clock.now());
      for (const signature of [signed.signature, 't=1,v1=00']) {
        const res = await app.inject({
          method: 'POST',
          url: '/webhooks/stripe',
          headers: { 'content-type': 'application/json', 'stripe-signature': signature },
          payload: signed.payload,
        });
        assert.equal(res.statusCode, 400, res.body);
        assert.match(String(res.headers['content-type']), /application\/problem\+json/);
      }
      assert.deepEqual(await snapshot(db), before);
      // A real event still goes through.
      const real = signEvent(event, SECRET, clock.now());
      const ok = await app.inject({
        method: 'POST',
        url: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': real.signature },
        payload: real.payload,
      });
      assert.equal(ok.statusCode, 200, ok.body);
    });
  });
});
