// The one place that wires everything together.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from './config.ts';
import type { Config } from './config.ts';
import { describeDatabase, openDatabase } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import { tuneV8ForService } from './v8-tuning.ts';
import type { Db } from './db/types.ts';
import { createWorker } from './engine/index.ts';
import type { EngineHooks, Registry, Worker } from './engine/index.ts';
import { buildServer } from './http/server.ts';
import { buildOpsServer } from './http/ops-server.ts';
import type { HttpObservability } from './http/observe.ts';
import { startLocalAdminSocket } from './http/admin-socket.ts';
import { setupLink } from './http/auth/setup.ts';
import { readStripeWebhookConfig, stripeWebhookRoutes } from './http/stripe-webhook.ts';
import { webRoutes } from './web/serve.ts';
import { billingRegistry, WORKFLOW_TYPES } from './billing/workflows/index.ts';
import type { BillingDeps } from './billing/workflows/index.ts';
import { startMaintenance } from './billing/maintenance.ts';
import type { Maintenance } from './billing/maintenance.ts';
import { closeEmailTransport, createEmailTransport, parseAllowHosts, startWebhookDelivery } from './notify/index.ts';
import type { WebhookDelivery } from './notify/index.ts';
import type { NotifyDeps } from './notify/index.ts';
import { createEventSource, createProvider, readProviderConfig } from './providers/index.ts';
import {
  combineHooks,
  createLogger as createServiceLogger,
  createMetrics,
  startObservability,
} from './observability/index.ts';
import type { Observability } from './observability/index.ts';

export interface Service {
  db: Db;
  worker?: Worker;
  /** The address the HTTP server listens on, when it runs. */
  url?: string;
  /** The address of /metrics, /healthz and /readyz on BILLFLOW_METRICS_PORT, when set. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export type Logger = pino.Logger;

/** JSON lines, or readable ones on a terminal; credentials redacted either way. */
export function createLogger(config: Config): Logger {
  return createServiceLogger({ level: config.logLevel, format: config.logFormat });
}

/**
 * What messages out need: the mail transport (SMTP or the outbox), HTTP, links to the UI; with
 * `observed`, sends and alerts are counted and outgoing HTTP is traced.
 */
export function notifyDeps(config: Config, observed?: Observability): NotifyDeps {
  return {
    email: createEmailTransport({ smtpUrl: config.email.smtpUrl, from: config.email.from, onSend: observed?.onSend }),
    fetch: observed ? observed.fetch(globalThis.fetch) : globalThis.fetch,
    clock: () => new Date(),
    adminUrl: config.publicUrl,
    company: { name: config.companyName },
    onSend: observed?.onSend,
    onAlert: observed?.onAlert,
  };
}

/** The billing workflows' dependencies: the configured provider, messages, schedules. */
export function billingDeps(
  config: Config,
  db: Db,
  env: NodeJS.ProcessEnv = process.env,
  observed?: Observability,
): BillingDeps {
  const provider = createProvider(readProviderConfig(env), { db });
  return {
    db,
    provider: observed ? observed.provider(provider) : provider,
    notify: notifyDeps(config, observed),
    dunningDays: config.billing.dunningDays,
    graceDays: config.billing.graceDays,
    startHooks: observed?.startHooks,
    webhookGuard: parseAllowHosts(config.webhookAllowHosts.join(',')),
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
    maxConnections: config.databasePoolSize,
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
  observability: HttpObservability,
): Promise<FastifyInstance> {
  const { db } = deps;
  const server = buildServer({
    db,
    logger,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    billing: { registry, provider: deps.provider, notify: deps.notify, calendarOwner: config.calendar.owner },
    observability,
    securityHeaders: { hstsMaxAgeSeconds: config.http.hstsMaxAgeSeconds },
    rateLimits: config.http.rateLimits,
    sessionIdleMs: config.http.sessionIdleMinutes * 60_000,
    webhookGuard: parseAllowHosts(config.webhookAllowHosts.join(',')),
  });
  await server.register(stripeWebhookRoutes, {
    db,
    registry,
    webhookSecret: stripeWebhookSecret,
    calendarOwner: config.calendar.owner,
  });
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
    presence: refuse,
    isPresent: refuse,
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
  // With /metrics, as every process serves it (open: the default configuration has no token).
  const observability = { metrics: createMetrics({ processMetrics: false }) };
  const server = await httpServer(
    config,
    deps,
    workflowRegistry(deps),
    pino({ level: 'silent' }),
    undefined,
    observability,
  );
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
  for (const unknown of config.unknownVariables) {
    logger.warn(
      { variable: unknown.name, did_you_mean: unknown.suggestion },
      `${unknown.name} is not a Billflow setting and is ignored${unknown.suggestion ? ` (did you mean ${unknown.suggestion}?)` : ''}`,
    );
  }
  const stripeWebhook = readStripeWebhookConfig(process.env);
  tuneV8ForService({ embeddedDatabase: !config.databaseUrl });
  const db = await openConfiguredDatabase(config, logger);
  logger.info(
    { database: describeDatabase({ databaseUrl: config.databaseUrl, dataDir: path.join(config.dataDir, 'data') }) },
    'database open',
  );
  let observed: Observability;
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    // Metrics always (nothing is read until a scrape); OpenTelemetry only when configured.
    observed = await startObservability(
      { tracing: config.tracing, types: WORKFLOW_TYPES },
      { db, logger: logger.child({ component: 'worker' }) },
    );
  } catch (error) {
    await db.close();
    throw error;
  }
  let deps: BillingDeps;
  try {
    deps = billingDeps(config, db, process.env, observed);
  } catch (error) {
    await db.close();
    throw error;
  }
  const registry = workflowRegistry(deps);
  // The embedded database admits one process: `billflow user create` and friends come in here.
  // It listens before anything reports ready, so a command run once /readyz answers finds it.
  let adminSocket: { close(): Promise<void> } | undefined;
  if (!config.databaseUrl) {
    try {
      adminSocket = await startLocalAdminSocket({
        dataDir: config.dataDir,
        db,
        logger: logger.child({ component: 'admin' }),
        provider: deps.provider,
        workflows: registry,
      });
    } catch (error) {
      await observed.shutdown();
      await db.close();
      throw error;
    }
  }
  let maintenance: Maintenance | undefined;
  let webhooks: WebhookDelivery | undefined;
  const worker = parts.workers
    ? createWorker(db, {
        registry,
        concurrency: config.worker.concurrency,
        leaseMs: config.worker.leaseMs,
        pollIntervalMs: config.worker.pollIntervalMs,
        logger: logger.child({ component: 'worker' }),
        // The sweep raises the alert from the database; the hook only makes it immediate.
        hooks: combineHooks(observed.engineHooks, parts.hooks ?? {}, { onRunFailed: () => maintenance?.runOnce() }),
      })
    : undefined;
  if (worker) observed.metrics.watchWorker(worker);
  if (worker) {
    maintenance = startMaintenance(db, {
      alerts: deps.notify,
      intervalMs: config.maintenanceIntervalMs,
      logger: logger.child({ component: 'maintenance' }),
      retention: config.retention,
      calendar: {
        registry,
        provider: deps.provider,
        notify: deps.notify,
        clock: deps.notify.clock,
        owner: config.calendar.owner,
        trialReminderDays: config.calendar.trialReminderDays,
      },
      // With Stripe as the provider, deliveries that never arrived are listed from its Events API.
      stripeEvents: { registry, source: createEventSource(readProviderConfig(process.env)) },
    });
  }
  if (worker) {
    // Event webhooks: due messages every second (the first retry comes after 5 s).
    webhooks = startWebhookDelivery(db, {
      clock: deps.notify.clock,
      guard: parseAllowHosts(config.webhookAllowHosts.join(',')),
      adminUrl: config.publicUrl,
      intervalMs: 1_000,
      logger: logger.child({ component: 'webhooks' }),
      onAttempt: (event) => observed.metrics.onWebhookAttempt(event),
    });
  }
  await worker?.start();
  let url: string | undefined;
  const server = parts.api
    ? await httpServer(config, deps, registry, logger.child({ component: 'http' }), stripeWebhook?.webhookSecret, {
        metrics: observed.metrics,
        metricsToken: config.metrics.token,
        tracing: observed.tracing,
      })
    : undefined;
  if (server) {
    url = await server.listen({ host: config.host, port: config.port });
    // Until the first user exists, the only way in is this one-time link.
    const link = await setupLink(db, config.publicUrl);
    if (link) logger.warn({ setup_link: link }, `No user yet: create the first admin at ${link}`);
  }
  if (worker) logger.info({ worker: worker.id, types: [...registry.keys()] }, 'worker started');
  let ops: FastifyInstance | undefined;
  let metricsUrl: string | undefined;
  if (config.metrics.port !== undefined) {
    // A worker-only process has no other HTTP: this is what Prometheus and probes reach.
    ops = buildOpsServer({
      db,
      metrics: observed.metrics,
      metricsToken: config.metrics.token,
      logger: logger.child({ component: 'metrics' }),
    });
    try {
      metricsUrl = await ops.listen({ host: config.host, port: config.metrics.port });
    } catch (error) {
      // E.g. the port is taken: stop what started, so the process can exit with the message.
      await server?.close();
      await maintenance?.stop();
      await webhooks?.stop();
      await worker?.stop({ graceMs: 0 });
      await adminSocket?.close();
      await observed.shutdown();
      await db.close();
      throw error;
    }
    logger.info({ url: metricsUrl }, 'metrics, health and readiness listening');
  }

  let closing: Promise<void> | undefined;
  return {
    db,
    worker,
    url,
    metricsUrl,
    close() {
      // Stop taking work first, let running steps finish, then close the database.
      closing ??= (async () => {
        await server?.close();
        await ops?.close();
        await maintenance?.stop();
        await webhooks?.stop();
        await worker?.stop({ graceMs: config.worker.shutdownGraceMs });
        closeEmailTransport(deps.notify.email);
        await adminSocket?.close();
        // Spans of the last steps go out before the database closes under them.
        await observed.shutdown();
        await db.close();
      })();
      return closing;
    },
  };
}
