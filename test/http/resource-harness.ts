// What the resource route tests share: the billing harness (real database, SMTP, Slack receiver,
// sandbox provider, live worker) behind the real API server, and an API key per role.
import { after } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { DatabaseKind } from '../../src/db/types.ts';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { ROLES } from '../../src/http/auth/roles.ts';
import type { Role } from '../../src/http/auth/roles.ts';
import { buildServer } from '../../src/http/server.ts';
import { billingHarness } from '../billing/harness.ts';
import type { BillingHarness, HarnessOptions } from '../billing/harness.ts';

export interface ApiHarness extends BillingHarness {
  app: FastifyInstance;
  keys: Record<Role, { key: string; id: string }>;
  /** Calls the API as `role` (an API key of that role). */
  call(
    role: Role,
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

export async function apiHarness(kind: DatabaseKind, options: HarnessOptions = {}): Promise<ApiHarness> {
  const h = await billingHarness(kind, options);
  const app = buildServer({
    db: h.db,
    clock: h.clock.now,
    billing: { registry: h.registry, provider: h.provider, notify: h.notify },
  });
  await app.ready();
  after(() => app.close());
  const keys = {} as ApiHarness['keys'];
  for (const role of ROLES) {
    const { key, row } = await createApiKey(h.db, {
      name: `test ${role}`,
      role,
      expiresAt: null,
      createdBy: null,
      now: h.clock.now(),
    });
    keys[role] = { key, id: row.id };
  }
  return {
    ...h,
    app,
    keys,
    call(role, method, url, body, headers = {}) {
      return app.inject({
        method,
        url: `/api/v1${url}`,
        headers: { authorization: `Bearer ${keys[role].key}`, ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      });
    },
  };
}

/** The JSON body of a response. */
export function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return response.json<T>();
}
