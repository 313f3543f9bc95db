// The HTTP a worker-only process has: /metrics, /healthz and /readyz on BILLFLOW_METRICS_PORT.
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Db } from '../db/types.ts';
import type { Metrics } from '../observability/index.ts';
import { healthRoutes } from './health.ts';
import { metricsRoute, observeRequests } from './observe.ts';
import { installProblemHandlers } from './problem.ts';

export interface OpsServerOptions {
  db: Db;
  metrics: Metrics;
  metricsToken?: string;
  logger?: FastifyBaseLogger;
}

export function buildOpsServer(options: OpsServerOptions): FastifyInstance {
  // Scrapes and probes every few seconds: not worth a log line each.
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // As on the API port: an unknown query parameter is refused by name, not dropped.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  });
  installProblemHandlers(app);
  observeRequests(app, { metrics: options.metrics });
  healthRoutes(app, options.db);
  metricsRoute(app, { metrics: options.metrics, token: options.metricsToken });
  return app;
}
