import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Db } from '../db/types.ts';
import { pendingMigrations } from '../db/migrate.ts';

export interface ServerOptions {
  db: Db;
  /** Shared with the rest of the service so every log line has one shape. */
  logger?: FastifyBaseLogger;
}

/** The HTTP surface. For now: liveness and readiness; the REST API mounts here. */
export function buildServer(options: ServerOptions): FastifyInstance {
  const app = options.logger ? Fastify({ loggerInstance: options.logger }) : Fastify();

  app.get(
    '/healthz',
    { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        response: {
          '2xx': {
            type: 'object',
            properties: { status: { type: 'string' }, database: { type: 'string' } },
          },
          503: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              database: { type: 'string' },
              detail: { type: 'string' },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      try {
        const pending = await pendingMigrations(options.db);
        if (pending.length > 0) {
          return reply.code(503).send({
            status: 'unavailable',
            database: options.db.kind,
            detail: `pending migrations: ${pending.join(', ')}`,
          });
        }
        return { status: 'ready', database: options.db.kind };
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        return reply.code(503).send({ status: 'unavailable', database: options.db.kind, detail });
      }
    },
  );

  return app;
}
