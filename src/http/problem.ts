import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthenticationError,
  ConflictError,
  RetryableError,
  InvalidInputError,
  NotFoundError,
  PermissionError,
  RateLimitedError,
} from '../errors.ts';
import type { FieldError } from '../errors.ts';
import { fieldErrorsOf } from '../schema-errors.ts';
import type { SchemaIssue } from '../schema-errors.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { titleOf } from './schemas.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

const RESERVED = new Set(['type', 'title', 'status', 'detail', 'errors']);
const TYPE_BASE = 'https://billflow.dev/problems/';
/** Seconds a client waits before trying again after a 503 (a dependency or the database is down). */
export const RETRY_AFTER_SECONDS = { dependency: 30, database: 5 } as const;

export function problem(status: number, detail: string, extra: Partial<Problem> = {}): Problem {
  const title = titleOf(status);
  return { type: `${TYPE_BASE}${title.toLowerCase().replace(/\s+/g, '-')}`, title, status, detail, ...extra };
}

function validationProblem(error: FastifyError): Problem {
  const errors = fieldErrorsOf((error.validation ?? []) as SchemaIssue[], error.validationContext);
  return problem(400, errors.map((e) => `${e.field}: ${e.message}`).join('; ') || error.message, { errors });
}

/** Maps any error to problem details; the one place status codes for error types are decided. */
export function toProblem(error: unknown): { problem: Problem; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (error instanceof InvalidInputError) {
    return { problem: problem(400, error.message, { errors: error.errors }), headers };
  }
  if (error instanceof AuthenticationError) return { problem: problem(401, error.message), headers };
  if (error instanceof PermissionError) return { problem: problem(403, error.message), headers };
  if (error instanceof NotFoundError) return { problem: problem(404, error.message), headers };
  if (error instanceof ConflictError) {
    const { field, ...details } = error.details;
    const errors = typeof field === 'string' ? [{ field, message: error.message }] : undefined;
    // Details never shadow the problem's own members: a run's `status` becomes `current_status`.
    const extra = Object.fromEntries(
      Object.entries(details).map(([k, v]) => [RESERVED.has(k) ? `current_${k}` : k, v]),
    );
    // A conflict that passes (a request still in flight) says when to try again.
    if (typeof details.retry_after === 'number') headers['retry-after'] = String(details.retry_after);
    return { problem: problem(409, error.message, { ...extra, ...(errors ? { errors } : {}) }), headers };
  }
  if (error instanceof RateLimitedError) {
    headers['retry-after'] = String(error.retryAfterSeconds);
    return { problem: problem(429, error.message, { retry_after: error.retryAfterSeconds }), headers };
  }
  if (error instanceof RetryableError) {
    // A dependency is down (payment provider, mail server): nothing was done; try again later.
    headers['retry-after'] = String(RETRY_AFTER_SECONDS.dependency);
    return { problem: problem(503, error.message), headers };
  }
  if (isDatabaseUnavailable(error)) {
    // PostgreSQL is down or restarting, the pool had no connection in time: the request did not
    // happen (or its transaction rolled back), and the same request can succeed shortly.
    headers['retry-after'] = String(RETRY_AFTER_SECONDS.database);
    return {
      problem: problem(503, 'the database is unavailable; try again shortly', {
        retry_after: RETRY_AFTER_SECONDS.database,
      }),
      headers,
    };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (Array.isArray(fastifyError.validation)) {
    return { problem: validationProblem(fastifyError as FastifyError), headers };
  }
  // Fastify's own 4xx: bad JSON, empty body, too large, unsupported media type...
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const detail = fastifyError.message ?? 'bad request';
    const errors = status === 400 || status === 415 ? [{ field: 'body', message: detail }] : undefined;
    return { problem: problem(status, detail, errors ? { errors } : {}), headers };
  }
  return { problem: problem(500, 'internal error'), headers };
}

export function sendProblem(reply: FastifyReply, error: unknown): FastifyReply {
  const { problem: body, headers } = toProblem(error);
  return reply.code(body.status).headers(headers).type('application/problem+json').send(body);
}

/** Installs the error and not-found handlers on `app` (and its children). */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { problem: body } = toProblem(error);
    if (body.status === 503) request.log.warn({ err: error }, 'request refused: a dependency is unavailable');
    else if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, error);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const body = problem(404, `no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(404).type('application/problem+json').send(body);
  });
}
