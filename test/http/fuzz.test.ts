import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JsonSchema, RouteSpec } from '../../src/http/route.ts';
import type { DatabaseKind } from '../../src/db/types.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { NO_RATE_LIMITS, apiHarness, sampleOf, snapshot, urlOf } from './support.ts';

// Requests per database kind, spread over the routes (at least 60 each, so routes added later are
// fuzzed too); PGlite is slower, so it gets fewer. Both kinds together: over 10,000.
const BUDGET: Record<DatabaseKind, number> = { postgres: 7000, pglite: 3500 };
const perRoute = (kind: DatabaseKind, routes: number) => Math.max(60, Math.ceil(BUDGET[kind] / routes));

const INJECTIONS = [
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  '"; SELECT pg_sleep(10); --',
  '<script>alert(1)</script>',
  '{{7*7}}',
  '${process.exit()}',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '__proto__',
  'constructor',
  '\\u0000',
  'NaN',
  '1e309',
  '-0',
];

/** `arb` once in `every` draws, else null. */
function sometimes<T>(arb: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 1, arbitrary: arb }, { weight: every - 1, arbitrary: fc.constant(null) });
}

/** Values of the wrong kind, or the right kind at its edges. */
const chaos: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1000, max: 300_000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom(
    -1,
    0,
    -2147483649,
    2147483648,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    1e21,
    -1e21,
    0.5,
    1e308,
  ),
  fc.double(),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((n) => n.toString()),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('XXX', 'usd', 'ZZZ', 'EURO', '', ' ', 'admin ', 'ADMIN', 'root', 'superuser'),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  fc.date({ noInvalidDate: true, min: new Date(-8.64e15), max: new Date(8.64e15) }).map((d) => d.toISOString()),
);

/** Mostly well-formed values for `schema`, mixed with chaos at every level. */
function valueOf(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema) return chaos;
  const options: fc.Arbitrary<unknown>[] = [];
  const examples = schema.examples as unknown[] | undefined;
  if (examples?.length) options.push(fc.constantFrom(...examples));
  const enumValues = schema.enum as unknown[] | undefined;
  if (enumValues?.length) options.push(fc.constantFrom(...enumValues));
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as (string | undefined)[];
  for (const type of types) {
    if (type === 'string' && !enumValues) {
      if (schema.format === 'email') options.push(fc.emailAddress());
      else if (schema.format === 'date-time') {
        options.push(
          fc
            .date({ noInvalidDate: true, min: new Date('1800-01-01'), max: new Date('9999-12-31') })
            .map((d) => d.toISOString()),
        );
      } else {
        const min = (schema.minLength as number | undefined) ?? 0;
        const max = Math.min((schema.maxLength as number | undefined) ?? 50, 300);
        options.push(fc.string({ minLength: Math.min(min, max), maxLength: max }));
      }
    } else if (type === 'integer' || type === 'number') {
      const min = (schema.minimum as number | undefined) ?? -1e6;
      const max = (schema.maximum as number | undefined) ?? 1e12;
      options.push(
        fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) }),
      );
    } else if (type === 'boolean') options.push(fc.boolean());
    else if (type === 'null') options.push(fc.constant(null));
    else if (type === 'array' && depth < 4) {
      options.push(fc.array(valueOf(schema.items as JsonSchema | undefined, depth + 1), { maxLength: 4 }));
    } else if (type === 'object' && depth < 4) options.push(objectOf(schema, depth));
  }
  if (options.length === 0) return chaos;
  return fc.oneof({ weight: 4, arbitrary: fc.oneof(...options) }, { weight: 1, arbitrary: chaos });
}

function objectOf(schema: JsonSchema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const record = fc.record(Object.fromEntries(Object.entries(props).map(([k, s]) => [k, valueOf(s, depth + 1)])), {
    requiredKeys: [],
  });
  // Sometimes an unknown field on top.
  return fc
    .tuple(record, sometimes(fc.tuple(fc.constantFrom('role_id', 'is_admin', '__proto__', 'x'), chaos), 8))
    .map(([value, extra]) => (extra ? { ...value, [extra[0]]: extra[1] } : value));
}

interface FuzzRequest {
  params: unknown;
  query: unknown;
  body: unknown;
  rawBody: string | null;
  contentType: string | null;
  idempotencyKey: string | null;
  auth: 'session' | 'key';
}

function requestOf(spec: RouteSpec): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    params: spec.params ? valueOf(spec.params) : fc.constant(undefined),
    query: spec.querystring ? valueOf(spec.querystring) : fc.constant(undefined),
    body: spec.body ? valueOf(spec.body) : sometimes(chaos, 3),
    rawBody: sometimes(
      fc.constantFrom(
        '{',
        '{"a":',
        'null',
        '[]',
        '"x"',
        '{"__proto__":{"x":1}}',
        '\u0000',
        'a=b',
        // Nested past any recursive walk's stack (and past the 32-level cap by one).
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
        `{"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5001)}`,
        `${'['.repeat(33)}${']'.repeat(33)}`,
      ),
      12,
    ),
    contentType: sometimes(
      fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/xml',
        'application/json; charset=latin1',
      ),
      12,
    ),
    idempotencyKey: sometimes(fc.oneof(fc.constantFrom('k1', 'k2'), fc.string({ maxLength: 300 })), 3),
    auth: fc.constantFrom('session' as const, 'key' as const),
  });
}

function paramsFor(spec: RouteSpec, value: unknown): Record<string, unknown> {
  const sample = (sampleOf(spec.params) ?? {}) as Record<string, unknown>;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return sample;
  return { ...sample, ...(value as Record<string, unknown>) };
}

eachDatabase((kind) => {
  // Thousands of requests, each followed by a snapshot of every table: longer than the suite's
  // default per-test limit on a busy 2-core machine.
  const options = { timeout: 900_000 };
  test(
    'fuzz: every route of the table, with generated good and bad input: no 5xx, no change on 4xx',
    options,
    async () => {
      const h = await apiHarness(kind, { rateLimits: NO_RATE_LIMITS });
      const stats = { requests: 0, byStatus: new Map<number, number>() };
      let session = await h.session('admin');
      let before = await snapshot(h.db);
      for (const spec of h.routes) {
        await fc.assert(
          fc.asyncProperty(requestOf(spec), async (req) => {
            const headers: Record<string, string> =
              req.auth === 'session' || spec.sessionOnly ? { ...session } : { ...h.apiKey('admin') };
            if (req.idempotencyKey !== null) headers['idempotency-key'] = req.idempotencyKey;
            let payload: string | undefined;
            if (req.rawBody !== null && spec.method !== 'GET') payload = req.rawBody;
            else if (req.body !== undefined && req.body !== null && spec.method !== 'GET')
              payload = JSON.stringify(req.body);
            if (payload !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
            const query =
              req.query !== null && typeof req.query === 'object' ? (req.query as Record<string, unknown>) : undefined;
            let url: string;
            try {
              url = urlOf(spec, paramsFor(spec, req.params), query);
            } catch {
              return; // a lone surrogate cannot be URL-encoded: nothing to send
            }
            const response = await h.app.inject({
              method: spec.method,
              url,
              headers,
              ...(payload === undefined ? {} : { payload }),
            });
            stats.requests++;
            stats.byStatus.set(response.statusCode, (stats.byStatus.get(response.statusCode) ?? 0) + 1);
            const where = `${spec.method} ${url.slice(0, 300)} ${payload?.slice(0, 300) ?? ''} → ${response.statusCode} ${response.body.slice(0, 500)}`;
            assert.ok(response.statusCode < 500, where);
            const after = await snapshot(h.db);
            if (response.statusCode >= 400) {
              assert.match(String(response.headers['content-type']), /application\/problem\+json/, where);
              assert.deepEqual(after, before, `state changed on ${where}`);
            }
            before = after;
            // Logging out or ending a session must not end the fuzzing.
            if (spec.sessionOnly && response.statusCode < 300 && spec.method !== 'GET') {
              session = await h.newSession('admin');
              before = await snapshot(h.db);
            }
          }),
          { numRuns: perRoute(kind, h.routes.length), seed: Number(process.env.FUZZ_SEED ?? 4242) },
        );
      }
      const statuses = [...stats.byStatus.entries()]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}:${n}`)
        .join(' ');
      console.log(
        `# fuzz (${kind}): ${stats.requests} requests over ${h.routes.length} routes, zero 5xx; statuses ${statuses}`,
      );
      assert.ok(stats.requests >= BUDGET[kind] * 0.95);
      await h.app.close();
    },
  );
});
