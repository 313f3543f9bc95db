// Liveness and readiness, the same on the API port and on a worker's metrics port.
import type { FastifyInstance } from 'fastify';
import { assertSchemaKnown, loadMigrations, pendingMigrations } from '../db/migrate.ts';
import type { Migration } from '../db/migrate.ts';
import type { Db } from '../db/types.ts';
import { problemResponses } from './schemas.ts';

const healthSchema = { type: 'object', required: ['status'], properties: { status: { type: 'string' } } };
/** The probes take no query: a query string is refused by name, like everywhere else. */
export const noQuery = { type: 'object', properties: {}, additionalProperties: false };

export function healthRoutes(app: FastifyInstance, db: Db): void {
  // Read once: the files this build ships do not change while it runs.
  let migrations: Promise<Migration[]> | undefined;
  const known = () =>
    (migrations ??= loadMigrations().catch((error: unknown) => {
      migrations = undefined;
      throw error;
    }));
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness: the process answers',
        tags: ['Health'],
        security: [],
        querystring: noQuery,
        response: { 200: healthSchema, 400: problemResponses()[400] },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the database answers and every migration is applied',
        tags: ['Health'],
        security: [],
        querystring: noQuery,
        response: {
          400: problemResponses()[400],
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
        const pending = await pendingMigrations(db, await known());
        if (pending.length > 0) {
          return reply.code(503).send({
            status: 'unavailable',
            database: db.kind,
            detail: `pending migrations: ${pending.join(', ')}`,
          });
        }
        // A newer Billflow migrated the database under this running process: not ready.
        await assertSchemaKnown(db, await known());
        return { status: 'ready', database: db.kind };
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        return reply.code(503).send({ status: 'unavailable', database: db.kind, detail });
      }
    },
  );
}
