// Shared by the API tests: a server on a fresh database, callers of every role, request
// samples generated from the route table, and a snapshot of every table to prove "nothing changed".
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createApiKey, revokeApiKey } from '../../src/http/auth/api-keys.ts';
import { ROLES } from '../../src/http/auth/roles.ts';
import type { Role } from '../../src/http/auth/roles.ts';
import { SESSION_COOKIE, createSession } from '../../src/http/auth/sessions.ts';
import { createUser } from '../../src/http/auth/users.ts';
import { API_PREFIX } from '../../src/http/route.ts';
import type { JsonSchema, RouteSpec } from '../../src/http/route.ts';
import { apiRoutes } from '../../src/http/routes/index.ts';
import { buildServer } from '../../src/http/server.ts';
import type { ServerOptions } from '../../src/http/server.ts';
import type { ApiDeps } from '../../src/http/deps.ts';
import type { Db, DatabaseKind } from '../../src/db/types.ts';
import { freshDatabase, testClock } from '../helpers/databases.ts';
import { billingRegistry } from '../../src/billing/workflows/index.ts';
import { createEmailTransport } from '../../src/notify/index.ts';
import type { NotifyDeps } from '../../src/notify/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';

export const PASSWORD = 'correct horse battery staple';

/** For tests of validation: a 429 answered before validation would leave the input unchecked. */
export const NO_RATE_LIMITS = { login: 0, passwordChange: 0, invitation: 0, apiKey: 0 };

export interface Caller {
  label: string;
  kind: 'session' | 'api_key' | 'anonymous' | 'revoked_key';
  role: Role | null;
  /** Fresh credentials for one request (sessions are recreated: a logout must not leak into the next call). */
  headers(): Promise<Record<string, string>>;
}

export interface Harness {
  db: Db;
  kind: DatabaseKind;
  app: FastifyInstance;
  clock: ReturnType<typeof testClock>;
  routes: RouteSpec[];
  users: Record<Role, { id: string; email: string }>;
  callers: Caller[];
  /** A caller of `role` signed in with a session (kept across requests). */
  session(role: Role): Promise<Record<string, string>>;
  /** A new session of `role`'s user. */
  newSession(role: Role): Promise<Record<string, string>>;
  apiKey(role: Role): Record<string, string>;
}

export async function apiHarness(kind: DatabaseKind, options: Partial<ServerOptions> = {}): Promise<Harness> {
  const { db } = await freshDatabase(kind);
  const clock = testClock(new Date('2026-03-01T10:00:00Z'));
  // Every route is served, those that start runs included (no worker: runs stay pending).
  const notify: NotifyDeps = {
    email: createEmailTransport({ from: 'billing@example.com' }),
    fetch: globalThis.fetch,
    clock: clock.now,
  };
  const provider = createSandboxProvider({ db, now: clock.now });
  const billing = { registry: billingRegistry({ db, provider, notify }), provider, notify };
  const app = buildServer({ db, clock: clock.now, publicUrl: 'http://billflow.test', billing, ...options });
  await app.ready();
  const deps: ApiDeps = { db, clock: clock.now, logger: app.log, billing };
  const users = {} as Record<Role, { id: string; email: string }>;
  const keys = {} as Record<Role, string>;
  for (const role of ROLES) {
    const email = `${role}@example.com`;
    const user = await createUser(db, { email, role, password: PASSWORD, now: clock.now() });
    users[role] = { id: user.id, email };
    keys[role] = (await createApiKey(db, { name: role, role, expiresAt: null, createdBy: null, now: clock.now() })).key;
  }
  const revoked = await createApiKey(db, {
    name: 'revoked',
    role: 'admin',
    expiresAt: null,
    createdBy: null,
    now: clock.now(),
  });
  await revokeApiKey(db, revoked.row.id, clock.now());

  const sessionHeaders = async (role: Role) => {
    const s = await createSession(db, {
      userId: users[role].id,
      ip: '127.0.0.1',
      userAgent: 'test',
      now: clock.now(),
      ttlMs: 3_600_000,
    });
    return { cookie: `${SESSION_COOKIE}=${s.token}`, 'x-csrf-token': s.csrfToken };
  };
  const callers: Caller[] = [
    { label: 'anonymous', kind: 'anonymous', role: null, headers: async () => ({}) },
    {
      label: 'revoked key',
      kind: 'revoked_key',
      role: null,
      headers: async () => ({ authorization: `Bearer ${revoked.key}` }),
    },
    ...ROLES.flatMap((role): Caller[] => [
      { label: `${role} session`, kind: 'session', role, headers: () => sessionHeaders(role) },
      { label: `${role} key`, kind: 'api_key', role, headers: async () => ({ authorization: `Bearer ${keys[role]}` }) },
    ]),
  ];
  const sessions = new Map<Role, Record<string, string>>();
  return {
    db,
    kind,
    app,
    clock,
    routes: apiRoutes(deps),
    users,
    callers,
    async session(role) {
      if (!sessions.has(role)) sessions.set(role, await sessionHeaders(role));
      return sessions.get(role) as Record<string, string>;
    },
    newSession: sessionHeaders,
    apiKey: (role) => ({ authorization: `Bearer ${keys[role]}` }),
  };
}

/** Whether the route table lets `caller` through (the expectation of the role matrix). */
export function allowed(spec: RouteSpec, caller: Caller): boolean {
  if (caller.kind === 'revoked_key') return false;
  if (spec.access === 'public') return true;
  if (caller.role === null) return false;
  if (spec.sessionOnly && caller.kind !== 'session') return false;
  return ROLES.indexOf(caller.role) <= ROLES.indexOf(spec.access);
}

/** A plausible value for `schema`: its first example, else something of the right shape. */
export function sampleOf(schema: JsonSchema | undefined): unknown {
  if (!schema) return undefined;
  const examples = schema.examples as unknown[] | undefined;
  if (examples?.length) return examples[0];
  const enumValues = schema.enum as unknown[] | undefined;
  if (enumValues?.length) return enumValues[enumValues.length - 1];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const anyOf = schema.anyOf as { required?: string[] }[] | undefined;
      for (const name of anyOf?.[0]?.required ?? []) required.add(name);
      return Object.fromEntries([...required].map((name) => [name, sampleOf(props[name])]));
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return (schema.minimum as number | undefined) ?? 1;
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'date-time') return '2030-01-01T00:00:00Z';
      if (schema.format === 'email') return 'sample@example.com';
      return 'x'.repeat((schema.minLength as number | undefined) ?? 1);
    default:
      return null;
  }
}

/** `/users/:id` with `{ id }` → `/api/v1/users/<id>`. */
export function urlOf(
  spec: RouteSpec,
  params: Record<string, unknown> | undefined,
  query?: Record<string, unknown>,
): string {
  let path = spec.url.replace(/:(\w+)/g, (_m, name: string) => encodeURIComponent(String(params?.[name] ?? '')));
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined) qs.append(k, typeof v === 'string' ? v : JSON.stringify(v));
  const s = qs.toString();
  path = `${API_PREFIX}${path}${s ? `?${s}` : ''}`;
  return path;
}

export async function send(
  app: FastifyInstance,
  spec: RouteSpec,
  headers: Record<string, string>,
  parts: { params?: unknown; query?: unknown; body?: unknown } = {},
): Promise<LightMyRequestResponse> {
  const params = (parts.params ?? sampleOf(spec.params)) as Record<string, unknown> | undefined;
  const query = (parts.query ?? undefined) as Record<string, unknown> | undefined;
  const body = parts.body ?? sampleOf(spec.body);
  return app.inject({
    method: spec.method,
    url: urlOf(spec, params, query),
    headers,
    ...(body === undefined ? {} : { payload: body as object }),
  });
}

/**
 * A fingerprint of every table. Failed logins are the one refusal that must leave a trace (the
 * throttle counters and their audit entries), so those are left out of the comparison.
 */
export async function snapshot(db: Db): Promise<Record<string, string>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT IN ('login_throttle')
      ORDER BY 1`,
  );
  const parts = tables.map(({ name }) => {
    const where = name === 'audit_log' ? `WHERE action <> 'auth.login_failed'` : '';
    return `SELECT '${name}' AS name, count(*)::int || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${name}" x ${where}`;
  });
  const { rows } = await db.query<{ name: string; h: string }>(parts.join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [r.name, r.h]));
}

export function problemOf(response: LightMyRequestResponse): {
  status: number;
  detail?: string;
  errors?: { field: string }[];
} {
  return response.json();
}
