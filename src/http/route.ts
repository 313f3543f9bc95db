import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static, TSchema, TUnknown } from 'typebox';
import type { Queryable } from '../db/types.ts';
import type { Principal } from './auth/principal.ts';
import type { Role } from './auth/roles.ts';

export type JsonSchema = Record<string, unknown>;
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** What an audited action records besides what the framework knows (actor, action, time, IP). */
export interface AuditDetail {
  /** Defaults to the caller; set when the actor only exists after the action (first-run setup). */
  actor?: string;
  target?: string | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

export interface RouteContext<P = unknown, Q = unknown, B = unknown> {
  /** Null only on public routes. */
  principal: Principal | null;
  params: P;
  query: Q;
  body: B;
  /** The source address (honours X-Forwarded-For only when trust proxy is configured). */
  ip: string;
  request: FastifyRequest;
  reply: FastifyReply;
  /**
   * Records the route's `audit` action, ideally with the action's own transaction as `q`.
   * When a successful handler did not call it, the framework records it after the handler.
   */
  audit(q: Queryable, entry?: AuditDetail): Promise<void>;
  /**
   * Runs the route's work in one transaction that also stores the answer for its Idempotency-Key
   * (and the audit entry when `fn` recorded none): the work commits if and only if the answer
   * does, so a retry after a crash replays the answer instead of doing the work twice. Routes
   * that create records directly use it; those that start runs rely on the run's own key.
   */
  transaction(fn: (tx: Queryable) => Promise<RouteResult>): Promise<RouteResult>;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Target and reason for the audit entry the framework records when the handler did not;
   * false when this call changed nothing worth recording (a dry run).
   */
  audit?: AuditDetail | false;
}

/** One API route: everything the framework, the role matrix, the fuzzer and OpenAPI need. */
export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: HttpMethod;
  /** Under /api/v1, Fastify syntax: `/users/:id`. */
  url: string;
  /** Unique over the API, camelCase: names the operation in OpenAPI and in generated clients. */
  operationId: string;
  /** The lowest role allowed, or 'public' (no credentials needed). */
  access: Role | 'public';
  /** Only a signed-in user (session cookie), not an API key: password change, own sessions. */
  sessionOnly?: boolean;
  summary: string;
  description?: string;
  tags: string[];
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: JsonSchema;
  /** Every status the route answers with, errors included (see `problemResponses`). */
  response: Record<number, JsonSchema>;
  /** The audit action recorded when it succeeds (operator actions). */
  audit?: string;
  /**
   * A POST that creates something: honours `Idempotency-Key`. Its handler writes through
   * `ctx.transaction` or starts runs under the request's operation key, so that a key's answer
   * is never lost after its work committed.
   */
  creates?: boolean;
  /** Top-level response fields shown once (keys, tokens): never stored for idempotent replay. */
  secretFields?: string[];
  handler(ctx: RouteContext<P, Q, B>): Promise<RouteResult>;
}

/**
 * What `route` takes: the request's parts as TypeBox schemas, each at once the JSON Schema Fastify
 * validates that part with and, through `Static`, the type the handler receives.
 */
export interface TypedRouteSpec<P extends TSchema, Q extends TSchema, B extends TSchema> extends Omit<
  RouteSpec,
  'params' | 'querystring' | 'body' | 'handler'
> {
  params?: P;
  querystring?: Q;
  body?: B;
  handler(ctx: RouteContext<Static<P>, Static<Q>, Static<B>>): Promise<RouteResult>;
}

/** The JSON Schema a TypeBox schema is, as the route table holds it. */
function jsonSchemaOf(schema: TSchema | undefined): JsonSchema | undefined {
  return schema === undefined ? undefined : { ...(schema as Record<string, unknown>) };
}

/**
 * A route whose handler is typed by its own schemas (a part without a schema is `unknown`),
 * erased for the route table.
 */
export function route<P extends TSchema = TUnknown, Q extends TSchema = TUnknown, B extends TSchema = TUnknown>(
  spec: TypedRouteSpec<P, Q, B>,
): RouteSpec {
  const { params, querystring, body, handler, ...rest } = spec;
  const parts = { params: jsonSchemaOf(params), querystring: jsonSchemaOf(querystring), body: jsonSchemaOf(body) };
  return {
    ...rest,
    ...Object.fromEntries(Object.entries(parts).filter(([, schema]) => schema !== undefined)),
    handler: (ctx) => handler(ctx as RouteContext<Static<P>, Static<Q>, Static<B>>),
  };
}

export const API_PREFIX = '/api/v1';
