// HTTP request metrics and spans, and the /metrics endpoint (API port and the worker's own port).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthenticationError } from '../errors.ts';
import type { Metrics, RequestSpan, Tracing } from '../observability/index.ts';
import { noQuery } from './health.ts';
import { sendProblem } from './problem.ts';
import { problemResponses } from './schemas.ts';

export interface HttpObservability {
  metrics?: Metrics;
  /** BILLFLOW_METRICS_TOKEN: /metrics then asks for `Authorization: Bearer <token>`. */
  metricsToken?: string;
  tracing?: Tracing;
}

/** The route label of a request that matched none (404s), so unknown paths make one series. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * A duration per request (method, route pattern, status) and, when tracing, a server span whose
 * context the handler runs in. Registered on the root instance, before any route, so that every
 * route and plugin (the API, the UI, inbound webhooks) has them.
 */
export function observeRequests(app: FastifyInstance, options: HttpObservability): void {
  const { metrics, tracing } = options;
  if (!metrics && !tracing) return;
  const spans = new WeakMap<FastifyRequest, RequestSpan>();
  const errors = new WeakMap<FastifyRequest, unknown>();
  if (tracing) {
    app.addHook('onRequest', (request, _reply, done) => {
      const path = request.url.split('?', 1)[0] ?? request.url;
      spans.set(request, tracing.startRequest({ method: request.method, path, headers: request.headers }));
      done();
    });
    // After the body is read: the handler, and what it starts, runs in the request's span.
    app.addHook('preHandler', (request, _reply, done) => {
      const span = spans.get(request);
      if (span) span.activate(done);
      else done();
    });
    app.addHook('onError', (request, _reply, error, done) => {
      errors.set(request, error);
      done();
    });
    app.addHook('onRequestAbort', (request, done) => {
      spans.get(request)?.end({ route: request.routeOptions.url ?? UNMATCHED_ROUTE, statusCode: 499 });
      spans.delete(request);
      done();
    });
  }
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics?.observeRequest({ method: request.method, route, statusCode: reply.statusCode }, reply.elapsedTime / 1000);
    spans.get(request)?.end({ route, statusCode: reply.statusCode, error: errors.get(request) });
    done();
  });
}

// Compared as digests, so the comparison takes the same time whatever the length of the guess.
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!given) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** GET /metrics in the Prometheus text format, behind the bearer token when one is set. */
export function metricsRoute(app: FastifyInstance, options: { metrics: Metrics; token?: string }): void {
  const { metrics, token } = options;
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['Health'],
        operationId: 'getMetrics',
        summary: 'Prometheus metrics of this process',
        description:
          'The Prometheus text exposition format. With BILLFLOW_METRICS_TOKEN set, send ' +
          '`Authorization: Bearer <token>`; without it the endpoint is open, like /healthz.',
        security: token ? [{ bearer: [] }] : [],
        querystring: noQuery,
        response: {
          200: {
            description: 'The metrics',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          400: problemResponses()[400],
          ...(token ? { 401: problemResponses()[401] } : {}),
        },
      },
    },
    async (request, reply) => {
      if (token && !tokenMatches(request.headers.authorization, token)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        return sendProblem(reply, new AuthenticationError('a valid metrics token is required'));
      }
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    },
  );
}
