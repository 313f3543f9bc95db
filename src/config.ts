import path from 'node:path';

export interface Config {
  databaseUrl?: string;
  /** Root folder for local state; the embedded database lives in `<dataDir>/data`. */
  dataDir: string;
  host: string;
  port: number;
  logLevel: string;
  worker: {
    concurrency: number;
    leaseMs: number;
    pollIntervalMs: number;
    shutdownGraceMs: number;
  };
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the configuration from the environment; every bad value is refused by name. */
export function loadConfig(env: Env = process.env, overrides: { port?: number } = {}): Config {
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.BILLFLOW_DATA_DIR || '.billflow'),
    host: env.HOST || '127.0.0.1',
    port: overrides.port ?? integer(env, 'PORT', 3000, 0, 65535),
    logLevel,
    worker: {
      concurrency: integer(env, 'BILLFLOW_WORKER_CONCURRENCY', 64, 1, 10_000),
      leaseMs: integer(env, 'BILLFLOW_LEASE_MS', 30_000, 500, 3_600_000),
      pollIntervalMs: integer(env, 'BILLFLOW_POLL_INTERVAL_MS', 1_000, 10, 600_000),
      shutdownGraceMs: integer(env, 'BILLFLOW_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    },
  };
}
