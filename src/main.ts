// The one place that wires everything together.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from './config.ts';
import type { Config } from './config.ts';
import { describeDatabase, openDatabase } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import { tuneV8ForEmbeddedDatabase } from './db/pglite.ts';
import type { Db } from './db/types.ts';
import { createWorker } from './engine/index.ts';
import type { EngineHooks, Registry, Worker } from './engine/index.ts';
import { buildServer } from './http/server.ts';
import { startLocalAdminSocket } from './http/admin-socket.ts';
import { setupLink } from './http/auth/setup.ts';
import { readStripeWebhookConfig, stripeWebhookRoutes } from './http/stripe-webhook.ts';
import { webRoutes } from './web/serve.ts';
import { billingRegistry } from './billing/workflows/index.ts';
import type { BillingDeps } from './billing/workflows/index.ts';
import { startMaintenance } from './billing/maintenance.ts';
import type { Maintenance } from './billing/maintenance.ts';
import { createEmailTransport } from './notify/index.ts';
import type { NotifyDeps } from './notify/index.ts';
import { createProvider, readProviderConfig } from './providers/index.ts';

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

/** What messages out need: the mail transport (SMTP or the outbox), HTTP, links to the UI. */
export function notifyDeps(config: Config): NotifyDeps {
  return {
    email: createEmailTransport({ smtpUrl: config.email.smtpUrl, from: config.email.from }),
    fetch: globalThis.fetch,
    clock: () => new Date(),
    adminUrl: config.publicUrl,
    company: { name: config.companyName },
  };
}

/** The billing workflows' dependencies: the configured provider, messages, schedules. */
export function billingDeps(config: Config, db: Db, env: NodeJS.ProcessEnv = process.env): BillingDeps {
  return {
    db,
    provider: createProvider(readProviderConfig(env), { db }),
    notify: notifyDeps(config),
    dunningDays: config.billing.dunningDays,
    graceDays: config.billing.graceDays,
  };
}

/** The workflow types this build runs: the seven billing workflows. */
export function workflowRegistry(deps: BillingDeps): Registry {
  return billingRegistry(deps);
}

export async function openConfiguredDatabase(config: Config, logger: Logger): Promise<Db> {
  return openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : path.join(config.dataDir, 'data'),
    onError: (error) => logger.warn({ err: error }, 'database connection error'),
  });
}

/** The HTTP server of `billflow start`: the REST API, Stripe's webhook and the admin UI. */
async function httpServer(
  config: Config,
  deps: BillingDeps,
  registry: Registry,
  logger: Logger,
  stripeWebhookSecret: string | undefined,
): Promise<FastifyInstance> {
  const { db } = deps;
  const server = buildServer({
    db,
    logger,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    billing: { registry, provider: deps.provider, notify: deps.notify },
  });
  await server.register(stripeWebhookRoutes, { db, registry, webhookSecret: stripeWebhookSecret });
  // The admin UI, built by `npm start` (or `npm run build:web`) into dist/web.
  await server.register(webRoutes, { distDir: path.resolve(import.meta.dirname, '../dist/web') });
  return server;
}

/** Stands in for the database where nothing may query it. */
function unopenedDb(): Db {
  const refuse = async (): Promise<never> => {
    throw new Error('no database is open here');
  };
  return {
    kind: 'postgres',
    query: refuse,
    transaction: refuse,
    exec: refuse,
    notify() {},
    listen: refuse,
    async close() {},
  };
}

/**
 * The OpenAPI document `billflow start` serves at /api/openapi.json, built in process from the
 * same server with the default configuration and no database (building it queries nothing).
 * `npm run gen:api` generates the admin UI's API types from it.
 */
export async function apiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({});
  const deps = billingDeps(config, unopenedDb(), {});
  const server = await httpServer(config, deps, workflowRegistry(deps), pino({ level: 'silent' }), undefined);
  try {
    await server.ready();
    // What GET /api/openapi.json answers, as plain JSON.
    return JSON.parse(JSON.stringify(server.swagger()));
  } finally {
    await server.close();
  }
}

/**
 * Starts what `billflow start` (API + workers) or `billflow worker` (workers only) runs:
 * opens the database, applies migrations, then serves and works until closed.
 */
export async function startService(
  config: Config,
  logger: Logger,
  parts: {
    api: boolean;
    workers: boolean;
    /** Engine hooks of a process that embeds the service (the benchmark counts completions). */
    hooks?: EngineHooks;
  },
): Promise<Service> {
  const stripeWebhook = readStripeWebhookConfig(process.env);
  if (!config.databaseUrl) tuneV8ForEmbeddedDatabase();
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
  let deps: BillingDeps;
  try {
    deps = billingDeps(config, db);
  } catch (error) {
    await db.close();
    throw error;
  }
  const registry = workflowRegistry(deps);
  let maintenance: Maintenance | undefined;
  const worker = parts.workers
    ? createWorker(db, {
        registry,
        concurrency: config.worker.concurrency,
        leaseMs: config.worker.leaseMs,
        pollIntervalMs: config.worker.pollIntervalMs,
        logger: logger.child({ component: 'worker' }),
        hooks: {
          ...parts.hooks,
          // The sweep raises the alert from the database; the hook only makes it immediate.
          onRunFailed: async (event) => {
            await Promise.all([parts.hooks?.onRunFailed?.(event), maintenance?.runOnce()]);
          },
        },
      })
    : undefined;
  if (worker) {
    maintenance = startMaintenance(db, {
      alerts: deps.notify,
      intervalMs: config.maintenanceIntervalMs,
      logger: logger.child({ component: 'maintenance' }),
      calendar: {
        registry,
        provider: deps.provider,
        notify: deps.notify,
        clock: deps.notify.clock,
        owner: config.calendar.owner,
        trialReminderDays: config.calendar.trialReminderDays,
      },
    });
  }
  await worker?.start();
  let url: string | undefined;
  const server = parts.api
    ? await httpServer(config, deps, registry, logger.child({ component: 'http' }), stripeWebhook?.webhookSecret)
    : undefined;
  if (server) {
    url = await server.listen({ host: config.host, port: config.port });
    // Until the first user exists, the only way in is this one-time link.
    const link = await setupLink(db, config.publicUrl);
    if (link) logger.warn({ setup_link: link }, `No user yet: create the first admin at ${link}`);
  }
  // The embedded database admits one process: `billflow user create` and friends come in here.
  const adminSocket = config.databaseUrl
    ? undefined
    : await startLocalAdminSocket({ dataDir: config.dataDir, db, logger: logger.child({ component: 'admin' }) });
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
        await maintenance?.stop();
        await worker?.stop({ graceMs: config.worker.shutdownGraceMs });
        await adminSocket?.close();
        await db.close();
      })();
      return closing;
    },
  };
}
