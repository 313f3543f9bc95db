// The one place that wires everything together.
import path from 'node:path';
import pino from 'pino';
import type { Config } from './config.ts';
import { describeDatabase, openDatabase } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import type { Db } from './db/types.ts';
import { createRegistry, createWorker } from './engine/index.ts';
import type { Registry, Worker } from './engine/index.ts';
import { buildServer } from './http/server.ts';

export interface Service {
  db: Db;
  worker?: Worker;
  /** The address the HTTP server listens on, when it runs. */
  url?: string;
  close(): Promise<void>;
}

export type Logger = pino.Logger;

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { service: 'billflow' } });
}

/** The workflow types this build runs. The billing workflows register here. */
export function workflowRegistry(): Registry {
  return createRegistry([]);
}

export async function openConfiguredDatabase(config: Config, logger: Logger): Promise<Db> {
  return openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : path.join(config.dataDir, 'data'),
    onError: (error) => logger.warn({ err: error }, 'database connection error'),
  });
}

/**
 * Starts what `billflow start` (API + workers) or `billflow worker` (workers only) runs:
 * opens the database, applies migrations, then serves and works until closed.
 */
export async function startService(
  config: Config,
  logger: Logger,
  parts: { api: boolean; workers: boolean },
): Promise<Service> {
  const db = await openConfiguredDatabase(config, logger);
  logger.info(
    { database: describeDatabase({ databaseUrl: config.databaseUrl, dataDir: path.join(config.dataDir, 'data') }) },
    'database open',
  );
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  } catch (error) {
    await db.close();
    throw error;
  }
  const registry = workflowRegistry();
  const worker = parts.workers
    ? createWorker(db, {
        registry,
        concurrency: config.worker.concurrency,
        leaseMs: config.worker.leaseMs,
        pollIntervalMs: config.worker.pollIntervalMs,
        logger: logger.child({ component: 'worker' }),
      })
    : undefined;
  await worker?.start();
  let url: string | undefined;
  const server = parts.api ? buildServer({ db, logger: logger.child({ component: 'http' }) }) : undefined;
  if (server) url = await server.listen({ host: config.host, port: config.port });
  if (worker) logger.info({ worker: worker.id, types: [...registry.keys()] }, 'worker started');

  let closing: Promise<void> | undefined;
  return {
    db,
    worker,
    url,
    close() {
      // Stop taking work first, let running steps finish, then close the database.
      closing ??= (async () => {
        await server?.close();
        await worker?.stop({ graceMs: config.worker.shutdownGraceMs });
        await db.close();
      })();
      return closing;
    },
  };
}
