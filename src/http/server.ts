import Fastify from 'fastify';
import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ValidatorFactory } from '@fastify/ajv-compiler';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { SESSION_COOKIE } from './auth/sessions.ts';
import type { ApiDeps } from './deps.ts';
import { healthRoutes } from './health.ts';
import { metricsRoute, observeRequests } from './observe.ts';
import { nameComponents } from './openapi.ts';
import { webhookDocs } from './webhook-docs.ts';
import { installProblemHandlers, sendProblem } from './problem.ts';
import { createClaimHolder } from './idempotency.ts';
import { registerRoute } from './register.ts';
import { installRateLimits } from './rate-limits.ts';
import type { RateLimitOptions } from './rate-limits.ts';
import { securityHeaders, swaggerUiCsp } from './security-headers.ts';
import type { SecurityHeaderOptions } from './security-headers.ts';
import type { RouteSpec } from './route.ts';
import { apiRoutes } from './routes/index.ts';

export type ServerOptions = Omit<ApiDeps, 'clock' | 'logger'> & {
  clock?: () => Date;
  /** Shared with the rest of the service so every log line has one shape. */
  logger?: FastifyBaseLogger;
  /** The route table; defaults to `apiRoutes(deps)`. */
  routes?: (deps: ApiDeps) => RouteSpec[];
  /** Strict-Transport-Security on HTTPS requests (see security-headers.ts). */
  securityHeaders?: SecurityHeaderOptions;
  /** Requests per minute on sign-in, password change, invitations and per API key. */
  rateLimits?: RateLimitOptions;
};

/**
 * Fastify's Ajv converts types by default (`coerceTypes: 'array'`): `true` becomes 1, `"1000"` and
 * `[1000]` become 1000, `12345` becomes "12345". Query strings and path parameters are text, so
 * there that conversion is the point; a JSON body already has types, so any conversion is a silent
 * change of what the caller sent. Bodies get a validator that converts nothing. (A compiler of our
 * own gets header schemas as written: name headers in lower case, as Node delivers them.)
 */
function strictBodyValidators(): ValidatorFactory {
  const pool = AjvCompiler();
  return (externalSchemas, options = {}) => {
    const converting = pool(externalSchemas, options);
    if (options.mode === 'JTD') return converting; // JSON Type Definition never converts
    const strict = pool(externalSchemas, {
      ...options,
      customOptions: { ...options.customOptions, coerceTypes: false },
    });
    return (route) => (route.httpPart === 'body' ? strict : converting)(route);
  };
}

/** The HTTP surface: health, readiness, the REST API under /api/v1 and its OpenAPI document. */
export function buildServer(options: ServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    trustProxy: options.trustProxy ?? false,
    // Errors the router raises before any route runs (bad URL encoding, over-long path parameter).
    frameworkErrors: (error, _request, reply) => {
      void sendProblem(reply, error);
    },
    ajv: {
      // Unknown fields are refused by name rather than silently dropped; every bad field is reported.
      customOptions: { removeAdditional: false, allErrors: true },
    },
    schemaController: { compilersFactory: { buildValidator: strictBodyValidators() } },
  });
  // First, so that every route (API, UI, inbound webhooks) is measured and traced.
  observeRequests(app, options.observability ?? {});
  const deps: ApiDeps = { ...options, clock: options.clock ?? (() => new Date()), logger: app.log };
  const routes = (options.routes ?? apiRoutes)(deps);

  installProblemHandlers(app);
  securityHeaders(app, options.securityHeaders);
  installRateLimits(app, options.rateLimits);
  void app.register(cookie);
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Billflow API',
        version: '1',
        license: { name: 'MIT', identifier: 'MIT' },
        description:
          'Errors are application/problem+json. Cookie-authenticated writes need the X-CSRF-Token header ' +
          '(from GET /api/v1/auth/session). Lists are keyset-paged: pass next_cursor back as cursor.',
      },
      // Relative: the document is served by the server it describes, wherever that runs.
      servers: [{ url: '/', description: 'This Billflow server' }],
      webhooks: webhookDocs(),
      components: {
        securitySchemes: {
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description: 'Set by POST /api/v1/auth/login',
          },
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key: Authorization: Bearer bf_…' },
        },
      },
    },
    transformObject: (doc) => ('openapiObject' in doc ? nameComponents(doc.openapiObject) : doc.swaggerObject),
  });
  void app.register(swaggerUi, { routePrefix: '/api/docs', transformStaticCSP: swaggerUiCsp });

  // Registered after swagger has loaded, so every route lands in the document.
  void app.register(async (api) => {
    // JSON only: a text/plain body is a 415, not something to validate.
    api.removeContentTypeParser('text/plain');
    api.get('/api/openapi.json', { schema: { hide: true } }, async () => api.swagger());
    // Idempotency-Key claims made by this server: they die with their requests.
    const claims = createClaimHolder(options.db);
    for (const spec of routes) registerRoute(api, deps, claims, spec);
    healthRoutes(api, options.db);
    if (options.observability?.metrics) {
      metricsRoute(api, { metrics: options.observability.metrics, token: options.observability.metricsToken });
    }
  });

  return app;
}
