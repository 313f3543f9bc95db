// Request bodies hold only the fields their schema names: an unknown field, at the top or inside
// a nested object, is a 400 naming it, and a missing body is a 4xx; nothing is stored either way.
// Every write route of the route table is tried, so a route added later is covered too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonSchema, RouteSpec } from '../../src/http/route.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { NO_RATE_LIMITS, apiHarness, sampleOf, snapshot, urlOf } from './support.ts';
import type { Harness } from './support.ts';

interface Problem {
  errors?: { field: string; message: string }[];
}

const UNKNOWN = 'surprise';

/** The paths of the objects in `schema` that refuse unknown fields (`[]` is the body itself). */
function closedObjects(schema: JsonSchema, path: string[] = []): string[][] {
  if (schema.type !== 'object') return [];
  const nested = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>).flatMap(([name, sub]) =>
    closedObjects(sub, [...path, name]),
  );
  return schema.additionalProperties === false ? [path, ...nested] : nested;
}

/** A copy of `body` with the unknown field added to the object at `path` (made when absent). */
function withUnknownAt(body: unknown, path: string[]): Record<string, unknown> {
  const object = body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...body } : {};
  const [head, ...rest] = path;
  if (head === undefined) return { ...object, [UNKNOWN]: 1 };
  return { ...object, [head]: withUnknownAt((object as Record<string, unknown>)[head], rest) };
}

async function callerHeaders(h: Harness, spec: RouteSpec): Promise<Record<string, string>> {
  return spec.sessionOnly ? { ...(await h.session('admin')) } : { ...h.apiKey('admin') };
}

function send(h: Harness, spec: RouteSpec, headers: Record<string, string>, payload?: string) {
  const params = { ...(sampleOf(spec.params) as Record<string, unknown> | undefined) };
  if ('locale' in params) params.locale = 'en';
  return h.app.inject({
    method: spec.method,
    url: urlOf(spec, params),
    headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(payload === undefined ? {} : { payload }),
  });
}

eachDatabase((kind) => {
  describe('request bodies hold only known fields', () => {
    let h: Harness;
    let bodyRoutes: RouteSpec[];
    before(async () => {
      h = await apiHarness(kind, { rateLimits: NO_RATE_LIMITS });
      bodyRoutes = h.routes.filter((r) => r.method !== 'GET' && r.body?.type === 'object');
    });
    after(async () => {
      await h.app.close();
    });

    test('an unknown field, at the top or in a nested object, is a 400 naming it; nothing stored', async () => {
      const failures: string[] = [];
      let cases = 0;
      for (const spec of bodyRoutes) {
        const body = spec.body as JsonSchema;
        const headers = await callerHeaders(h, spec);
        const before = await snapshot(h.db);
        for (const path of closedObjects(body)) {
          cases++;
          const field = [...path, UNKNOWN].join('.');
          const res = await send(h, spec, headers, JSON.stringify(withUnknownAt(sampleOf(body), path)));
          const named = res.statusCode === 400 && (res.json() as Problem).errors?.some((e) => e.field === field);
          if (!named)
            failures.push(`${spec.method} ${spec.url} ${field} → ${res.statusCode} ${res.body.slice(0, 200)}`);
        }
        if (JSON.stringify(await snapshot(h.db)) !== JSON.stringify(before)) {
          failures.push(`${spec.method} ${spec.url}: an unknown field changed the database`);
        }
      }
      console.log(`# unknown fields (${kind}): ${cases} requests over ${bodyRoutes.length} routes with a body`);
      assert.ok(cases >= bodyRoutes.length, `only ${cases} cases`);
      assert.deepEqual(failures, []);
    });

    test('a request without the body its route takes is a 400 naming the body; nothing stored', async () => {
      const failures: string[] = [];
      for (const spec of bodyRoutes) {
        const before = await snapshot(h.db);
        const res = await send(h, spec, await callerHeaders(h, spec));
        const named = res.statusCode === 400 && (res.json() as Problem).errors?.some((e) => e.field === 'body');
        if (!named) failures.push(`${spec.method} ${spec.url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
        if (JSON.stringify(await snapshot(h.db)) !== JSON.stringify(before)) {
          failures.push(`${spec.method} ${spec.url}: a request without a body changed the database`);
        }
      }
      assert.deepEqual(failures, []);
    });
  });
});
