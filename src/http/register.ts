import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/types.ts';
import { AuthenticationError, InvalidInputError, PermissionError } from '../errors.ts';
import { recordAudit } from './audit.ts';
import { TOO_DEEP_MESSAGE, tooDeepField } from './json-depth.ts';

import { touchApiKey } from './auth/api-keys.ts';
import { authenticate } from './auth/authenticate.ts';
import type { Credentials } from './auth/authenticate.ts';
import { actorOf } from './auth/principal.ts';
import { roleAtLeast } from './auth/roles.ts';
import { sameSecret } from './auth/secrets.ts';
import type { ApiDeps } from './deps.ts';
import {
  checkIdempotencyKey,
  claimIdempotencyKey,
  completeIdempotencyKey,
  releaseIdempotencyKey,
  requestHash,
} from './idempotency.ts';
import type { ClaimHolder } from './idempotency.ts';
import { API_PREFIX } from './route.ts';
import type { AuditDetail, RouteContext, RouteResult, RouteSpec } from './route.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the route's onRequest hook: who is calling and how. */
    billflowAuth: Credentials | null;
  }
}

const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
export const CSRF_HEADER = 'x-csrf-token';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** OpenAPI security requirement of a route, from the same table the server enforces. */
export function securityOf(spec: RouteSpec): Record<string, string[]>[] {
  if (spec.access === 'public') return [];
  return spec.sessionOnly ? [{ session: [] }] : [{ session: [] }, { bearer: [] }];
}

/**
 * Authentication, the role check and CSRF, in that order, before the body is even parsed: a
 * refused request costs little and changes nothing.
 */
async function guard(deps: ApiDeps, spec: RouteSpec, request: FastifyRequest): Promise<void> {
  const credentials = await authenticate(deps.db, request, deps.clock(), deps.sessionIdleMs);
  request.billflowAuth = credentials;
  if (spec.access === 'public') return;
  const principal = credentials.principal;
  if (!principal) throw new AuthenticationError();
  if (spec.sessionOnly && principal.kind !== 'user') {
    throw new PermissionError('this action needs a signed-in user, not an API key');
  }
  if (!roleAtLeast(principal.role, spec.access)) {
    throw new PermissionError(`this action needs the ${spec.access} role or above (you have ${principal.role})`);
  }
  if (credentials.via === 'cookie' && principal.kind === 'user' && WRITE_METHODS.has(spec.method)) {
    const sent = request.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameSecret(sent, principal.csrfToken)) {
      throw new PermissionError(`missing or wrong ${CSRF_HEADER} header (get it from GET ${API_PREFIX}/auth/session)`);
    }
  }
}

/**
 * PostgreSQL text cannot hold U+0000, so a NUL anywhere in the input would fail in the database
 * as a 500: refuse it here, naming the field, for every route at once. Iterative, so no body can
 * exhaust the stack (bodies are also depth-capped before validation, see `refuseDeepBody`).
 */
export function nulFields(value: unknown, path = ''): string[] {
  const found: string[] = [];
  // Depth first, in document order; a key holding a NUL is reported in its place.
  const stack: { value: unknown; path: string; badKey?: true }[] = [{ value, path }];
  while (stack.length > 0) {
    const { value: v, path: p, badKey } = stack.pop() as { value: unknown; path: string; badKey?: true };
    if (badKey) found.push(p);
    else if (typeof v === 'string') {
      if (v.includes('\u0000')) found.push(p || 'body');
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: `${p}[${i}]` });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i] as [string, unknown];
        const field = p ? `${p}.${k}` : k;
        stack.push(k.includes('\u0000') ? { value: null, path: field, badKey: true } : { value: child, path: field });
      }
    }
  }
  return found;
}

/**
 * Caps how deep a body nests before validation or anything else walks it: past a few thousand
 * levels a recursive walk (ours, JSON.stringify, PostgreSQL's jsonb) overflows the stack.
 */
async function refuseDeepBody(request: FastifyRequest): Promise<void> {
  const field = tooDeepField(request.body);
  if (field !== null) throw new InvalidInputError([{ field, message: TOO_DEEP_MESSAGE }]);
}

function withoutSecrets(body: unknown, fields: string[] | undefined): unknown {
  if (!fields?.length || body === null || typeof body !== 'object') return body;
  return { ...(body as Record<string, unknown>), ...Object.fromEntries(fields.map((f) => [f, null])) };
}

async function handle(
  deps: ApiDeps,
  claims: ClaimHolder,
  spec: RouteSpec,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const nul = [...nulFields(request.params), ...nulFields(request.query), ...nulFields(request.body)];
  if (nul.length > 0) {
    throw new InvalidInputError(nul.map((field) => ({ field, message: 'must not contain the NUL character' })));
  }
  const principal = request.billflowAuth?.principal ?? null;
  const scope = principal ? actorOf(principal) : null;
  const idempotencyKey = request.headers[IDEMPOTENCY_HEADER];
  const key = spec.creates && scope && typeof idempotencyKey === 'string' ? idempotencyKey : null;
  let claim: ReturnType<ClaimHolder['begin']> | null = null;
  let holder: string | undefined;
  if (key !== null && scope !== null) {
    checkIdempotencyKey(key);
    claim = claims.begin(scope, key);
    let outcome;
    try {
      holder = await claims.id();
      outcome = await claimIdempotencyKey(deps.db, {
        principal: scope,
        key,
        hash: requestHash(spec.method, request.url, request.body),
        now: deps.clock(),
        holder,
        inFlight: claim.inFlight,
      });
    } catch (error) {
      claim.end();
      throw error;
    }
    if (outcome.kind === 'replay') {
      claim.end();
      return reply.code(outcome.status).header('idempotent-replayed', 'true').send(outcome.body);
    }
  }
  const body = request.body as Record<string, unknown> | undefined;
  const defaultReason = typeof body?.reason === 'string' ? body.reason : null;
  let audited = false;
  let completed = false;
  const auditUnlessDone = async (q: Queryable, result: RouteResult) => {
    if (spec.audit && !audited && result.audit !== false) {
      await ctx.audit(q, result.audit ?? { target: request.url.split('?')[0] ?? null });
    }
  };
  const complete = async (q: Queryable, result: RouteResult, claimHolder?: string) => {
    if (key === null || scope === null) return;
    await completeIdempotencyKey(q, {
      principal: scope,
      key,
      status: result.status,
      body: withoutSecrets(result.body, spec.secretFields),
      holder: claimHolder,
    });
    completed = true;
  };
  const ctx: RouteContext = {
    principal,
    params: request.params,
    query: request.query,
    body: request.body,
    ip: request.ip,
    request,
    reply,
    async audit(q, entry: AuditDetail = {}) {
      if (!spec.audit) throw new Error(`route ${spec.method} ${spec.url} has no audit action`);
      audited = true;
      await recordAudit(q, {
        actor: entry.actor ?? (principal ? actorOf(principal) : 'anonymous'),
        action: spec.audit,
        target: entry.target ?? null,
        reason: entry.reason ?? defaultReason,
        sourceIp: request.ip,
        details: entry.details,
        at: deps.clock(),
      });
    },
    transaction(fn) {
      return deps.db.transaction(async (tx) => {
        const result = await fn(tx);
        if (result.status < 400) {
          await auditUnlessDone(tx, result);
          await complete(tx, result, holder);
        }
        return result;
      });
    },
  };
  let result: RouteResult;
  try {
    result = await spec.handler(ctx);
    if (result.status >= 400)
      throw new Error(`handler of ${spec.url} returned ${result.status}; throw an error instead`);
    await auditUnlessDone(deps.db, result);
    if (!completed) await complete(deps.db, result);
  } catch (error) {
    // The claim dies with the request: released now, or (the database unreachable) seen as
    // no longer in flight once `end` runs, and taken over by the next request with the key.
    if (key !== null && scope !== null) await releaseIdempotencyKey(deps.db, scope, key).catch(() => {});
    throw error;
  } finally {
    claim?.end();
  }
  if (principal?.kind === 'api_key' && principal.useUnrecorded !== false) {
    await touchApiKey(deps.db, principal.apiKeyId, deps.clock());
  }
  if (result.headers) reply.headers(result.headers);
  return reply.code(result.status).send(result.body ?? null);
}

/** Registers one spec on `app` (under /api/v1) with the framework's hooks and OpenAPI metadata. */
export function registerRoute(app: FastifyInstance, deps: ApiDeps, claims: ClaimHolder, spec: RouteSpec): void {
  const headers = spec.creates
    ? {
        type: 'object',
        properties: {
          [IDEMPOTENCY_HEADER]: {
            type: 'string',
            minLength: 1,
            maxLength: 255,
            description: 'Same key and body: the first response again. Same key, other body: 409.',
          },
        },
      }
    : undefined;
  app.route({
    method: spec.method,
    url: `${API_PREFIX}${spec.url}`,
    schema: {
      operationId: spec.operationId,
      summary: spec.summary,
      description: spec.description,
      tags: spec.tags,
      security: securityOf(spec),
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.querystring ? { querystring: spec.querystring } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      ...(headers ? { headers } : {}),
      response: spec.response,
    },
    onRequest: (request, _reply) => guard(deps, spec, request),
    preValidation: refuseDeepBody,
    handler: (request, reply) => handle(deps, claims, spec, request, reply),
  });
}
