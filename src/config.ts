import { isIP } from 'node:net';
import path from 'node:path';

export interface Config {
  databaseUrl?: string;
  /** Connections each process's PostgreSQL pool opens at most (not counting LISTEN and presence). */
  databasePoolSize: number;
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
  email: {
    /** SMTP_URL; without it customer and team emails go to the outbox table. */
    smtpUrl?: string;
    from: string;
  };
  /** Where operators reach the admin UI; links in alerts and notices point here. */
  publicUrl: string;
  companyName: string;
  billing: {
    /** Days after a failed payment on which dunning charges again, ascending. */
    dunningDays: number[];
    /** Days after an invoice's due date before its customer is disabled. */
    graceDays: number;
  };
  retention: {
    /**
     * BILLFLOW_RETENTION_DAYS: completed and cancelled runs, sends, outbox emails, settled Stripe
     * events and read feed entries older than this are deleted; 0 keeps everything.
     */
    days: number;
    /** BILLFLOW_AUDIT_RETENTION_DAYS: the same for audit entries; 0 keeps them all. */
    auditDays: number;
  };
  /** How often the maintenance loop runs (failure alerts, digests, the calendar, due subscriptions). */
  maintenanceIntervalMs: number;
  calendar: {
    /**
     * Who renews subscriptions and invoices them: Billflow's own calendar, or Stripe Billing (its
     * invoice events start the workflows). Defaults to stripe with the Stripe provider.
     */
    owner: 'billflow' | 'stripe';
    /** Days before a trial ends on which the customer is reminded; 0 sends none. */
    trialReminderDays: number;
  };
  /**
   * Fastify's trustProxy: whether (or which) proxies' X-Forwarded-* headers are believed for the
   * client address and HTTPS. Off unless Billflow runs behind a proxy you control.
   */
  trustProxy: boolean | string[];
  /** LOG_FORMAT; unset: readable lines on a terminal, JSON lines otherwise. */
  logFormat?: 'json' | 'pretty';
  metrics: {
    /** BILLFLOW_METRICS_TOKEN: /metrics asks for `Authorization: Bearer <token>` when set. */
    token?: string;
    /** BILLFLOW_METRICS_PORT: /metrics, /healthz and /readyz on a port of their own (workers). */
    port?: number;
  };
  http: {
    /**
     * Requests per minute (0: no limit) — BILLFLOW_RATE_LIMIT_LOGIN and _INVITATION per source
     * address, _PASSWORD_CHANGE per user, _API_KEY per key. Counted per API process.
     */
    rateLimits: { login: number; passwordChange: number; invitation: number; apiKey: number };
    /** BILLFLOW_SESSION_IDLE_MINUTES: a session unused this long is ended (besides its 14-day life). */
    sessionIdleMinutes: number;
    /** BILLFLOW_HSTS_MAX_AGE: Strict-Transport-Security max-age (seconds) on HTTPS requests; 0 sends none. */
    hstsMaxAgeSeconds: number;
  };
  /**
   * BILLFLOW_WEBHOOK_ALLOW_HOSTS: host names, addresses and CIDRs webhook and Slack URLs may point
   * to although they are private or loopback (and, for hosts named, over plain http).
   */
  webhookAllowHosts: string[];
  /** BILLFLOW_* variables that are set but not read (warned about at start), with a likely meant name. */
  unknownVariables: { name: string; suggestion?: string }[];
  /** OpenTelemetry traces over OTLP/HTTP; off (nothing loaded) without an endpoint. */
  tracing?: {
    tracesUrl: string;
    serviceName: string;
  };
}

export class ConfigError extends Error {
  /** Each bad variable's message, when the configuration was read as a whole. */
  readonly problems: string[];
  constructor(message: string, problems: string[] = [message]) {
    super(message);
    this.problems = problems;
  }
}

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

/** 0 (keep everything) or at least a week: Stripe redelivers events for up to three days. */
function retentionDays(env: Env, name: string, fallback: number): number {
  const days = integer(env, name, fallback, 0, 36_500);
  if (days > 0 && days < 7) {
    throw new ConfigError(`${name} must be 0 (keep everything) or from 7 to 36500 days (got "${env[name] ?? ''}")`);
  }
  return days;
}

function dayList(env: Env, name: string, fallback: number[]): number[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const days = raw.split(',').map((part) => Number(part.trim()));
  const ascending = days.every(
    (d, i) => Number.isInteger(d) && d >= 1 && d <= 365 && (i === 0 || d > (days[i - 1] ?? 0)),
  );
  if (!ascending || days.length > 20) {
    throw new ConfigError(`${name} must be up to 20 ascending whole days from 1 to 365, like "1,3,5,7" (got "${raw}")`);
  }
  return days;
}

function url(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    const parsed = new URL(raw);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return raw.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  throw new ConfigError(`${name} must be an http(s) URL, like https://billing.example.com (got "${raw}")`);
}

function trustProxy(raw: string | undefined): boolean | string[] {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  const addresses = raw.split(',').map((a) => a.trim());
  if (addresses.some((a) => !/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(a))) {
    throw new ConfigError(
      `BILLFLOW_TRUST_PROXY must be true, false or a comma-separated list of proxy addresses/CIDRs (got "${raw}")`,
    );
  }
  return addresses;
}

function allowHosts(raw: string | undefined): string[] {
  const items = (raw ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const host = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;
  const bad = items.filter((item) => {
    const [address = '', bits, extra] = item.split('/');
    const family = isIP(address);
    if (extra !== undefined) return true;
    if (bits !== undefined) return family === 0 || !/^\d+$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
    return family === 0 && !host.test(item);
  });
  if (bad.length > 0) {
    throw new ConfigError(
      `BILLFLOW_WEBHOOK_ALLOW_HOSTS must be a comma-separated list of host names, addresses and CIDRs (not "${bad.join('", "')}")`,
    );
  }
  return items;
}

function calendarOwner(env: Env): 'billflow' | 'stripe' {
  const provider = env.BILLFLOW_PAYMENT_PROVIDER || 'sandbox';
  const raw = env.BILLFLOW_CALENDAR_OWNER || (provider === 'stripe' ? 'stripe' : 'billflow');
  if (raw !== 'billflow' && raw !== 'stripe') {
    throw new ConfigError(`BILLFLOW_CALENDAR_OWNER must be billflow or stripe (got "${raw}")`);
  }
  if (raw === 'stripe' && provider !== 'stripe') {
    throw new ConfigError('BILLFLOW_CALENDAR_OWNER=stripe needs BILLFLOW_PAYMENT_PROVIDER=stripe');
  }
  return raw;
}

function optionalPort(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  return integer(env, name, 0, 0, 65535);
}

const MIN_TOKEN_LENGTH = 16;

function metricsToken(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < MIN_TOKEN_LENGTH || /\s/.test(raw)) {
    // The value itself is never echoed: it is a credential.
    throw new ConfigError(
      `BILLFLOW_METRICS_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters without spaces (e.g. from \`openssl rand -hex 32\`)`,
    );
  }
  return raw;
}

function otlpUrl(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = new URL(raw);
    if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && !parsed.password) return raw;
  } catch {
    // reported below
  }
  throw new ConfigError(
    `${name} must be an http(s) URL without a password, like http://collector:4318 (got "${raw.replace(/\/\/[^@/]*@/, '//…@')}")`,
  );
}

function tracing(env: Env): Config['tracing'] {
  const traces = otlpUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = otlpUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  // As OpenTelemetry defines them: the traces URL as given, or the base URL plus /v1/traces.
  const tracesUrl = traces ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!tracesUrl) return undefined;
  return { tracesUrl, serviceName: env.OTEL_SERVICE_NAME || 'billflow' };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Every BILLFLOW_* variable Billflow reads; another is reported as unknown (likely misspelled). */
export const KNOWN_VARIABLES = [
  'BILLFLOW_DATA_DIR',
  'BILLFLOW_DATABASE_POOL_SIZE',
  'BILLFLOW_WORKER_CONCURRENCY',
  'BILLFLOW_LEASE_MS',
  'BILLFLOW_POLL_INTERVAL_MS',
  'BILLFLOW_SHUTDOWN_GRACE_MS',
  'BILLFLOW_PAYMENT_PROVIDER',
  'BILLFLOW_PUBLIC_URL',
  'BILLFLOW_COMPANY_NAME',
  'BILLFLOW_DUNNING_DAYS',
  'BILLFLOW_INVOICE_GRACE_DAYS',
  'BILLFLOW_RETENTION_DAYS',
  'BILLFLOW_AUDIT_RETENTION_DAYS',
  'BILLFLOW_MAINTENANCE_INTERVAL_MS',
  'BILLFLOW_CALENDAR_OWNER',
  'BILLFLOW_TRIAL_REMINDER_DAYS',
  'BILLFLOW_TRUST_PROXY',
  'BILLFLOW_METRICS_TOKEN',
  'BILLFLOW_METRICS_PORT',
  'BILLFLOW_RATE_LIMIT_LOGIN',
  'BILLFLOW_RATE_LIMIT_PASSWORD_CHANGE',
  'BILLFLOW_RATE_LIMIT_INVITATION',
  'BILLFLOW_RATE_LIMIT_API_KEY',
  'BILLFLOW_HSTS_MAX_AGE',
  'BILLFLOW_SESSION_IDLE_MINUTES',
  'BILLFLOW_WEBHOOK_ALLOW_HOSTS',
  // The test suite's choice of databases.
  'BILLFLOW_TEST_DATABASES',
];

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** BILLFLOW_* names in the environment that Billflow does not read, each with the nearest known one. */
export function unknownVariables(env: Env): { name: string; suggestion?: string }[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('BILLFLOW_') && !KNOWN_VARIABLES.includes(name))
    .sort()
    .map((name) => {
      const [nearest] = KNOWN_VARIABLES.map((known) => ({ known, d: distance(name, known) })).sort((x, y) => x.d - y.d);
      return nearest && nearest.d <= 3 ? { name, suggestion: nearest.known } : { name };
    });
}

/**
 * Reads the configuration from the environment. Every bad value is refused by name, all at once:
 * the ConfigError lists each problem, not only the first.
 */
export function loadConfig(env: Env = process.env, overrides: { port?: number } = {}): Config {
  const problems: string[] = [];
  const check = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(error.message);
      return fallback;
    }
  };
  const logLevel = check(() => {
    const value = env.LOG_LEVEL || 'info';
    if (!LOG_LEVELS.includes(value)) {
      throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${value}")`);
    }
    return value;
  }, 'info');
  const logFormat = check((): Config['logFormat'] => {
    const value = env.LOG_FORMAT || undefined;
    if (value !== undefined && value !== 'json' && value !== 'pretty') {
      throw new ConfigError(`LOG_FORMAT must be json or pretty (got "${value}")`);
    }
    return value;
  }, undefined);
  const host = env.HOST || '127.0.0.1';
  const port = overrides.port ?? check(() => integer(env, 'PORT', 3000, 0, 65535), 3000);
  const smtpUrl = check(() => {
    const value = env.SMTP_URL || undefined;
    if (value !== undefined && !/^smtps?:\/\//.test(value)) {
      throw new ConfigError(
        `SMTP_URL must start with smtp:// or smtps:// (got "${value.replace(/\/\/[^@]*@/, '//…@')}")`,
      );
    }
    return value;
  }, undefined);
  const int = (name: string, fallback: number, min: number, max: number) =>
    check(() => integer(env, name, fallback, min, max), fallback);
  const config: Config = {
    databaseUrl: env.DATABASE_URL || undefined,
    databasePoolSize: int('BILLFLOW_DATABASE_POOL_SIZE', 10, 2, 1000),
    dataDir: path.resolve(env.BILLFLOW_DATA_DIR || '.billflow'),
    host,
    port,
    logLevel,
    worker: {
      concurrency: int('BILLFLOW_WORKER_CONCURRENCY', 64, 1, 10_000),
      leaseMs: int('BILLFLOW_LEASE_MS', 30_000, 500, 3_600_000),
      pollIntervalMs: int('BILLFLOW_POLL_INTERVAL_MS', 1_000, 10, 600_000),
      shutdownGraceMs: int('BILLFLOW_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    },
    email: { smtpUrl, from: env.EMAIL_FROM || 'Billflow <billing@localhost>' },
    publicUrl: check(
      () => url(env, 'BILLFLOW_PUBLIC_URL', `http://${host.includes(':') ? `[${host}]` : host}:${port}`),
      '',
    ),
    companyName: env.BILLFLOW_COMPANY_NAME || 'Billflow',
    billing: {
      dunningDays: check(() => dayList(env, 'BILLFLOW_DUNNING_DAYS', [1, 3, 5, 7]), []),
      graceDays: int('BILLFLOW_INVOICE_GRACE_DAYS', 30, 0, 365),
    },
    retention: {
      days: check(() => retentionDays(env, 'BILLFLOW_RETENTION_DAYS', 90), 0),
      auditDays: check(() => retentionDays(env, 'BILLFLOW_AUDIT_RETENTION_DAYS', 365), 0),
    },
    maintenanceIntervalMs: int('BILLFLOW_MAINTENANCE_INTERVAL_MS', 5_000, 100, 3_600_000),
    calendar: {
      owner: check(() => calendarOwner(env), 'billflow'),
      trialReminderDays: int('BILLFLOW_TRIAL_REMINDER_DAYS', 3, 0, 365),
    },
    trustProxy: check(() => trustProxy(env.BILLFLOW_TRUST_PROXY), false),
    logFormat,
    metrics: {
      token: check(() => metricsToken(env.BILLFLOW_METRICS_TOKEN), undefined),
      port: check(() => optionalPort(env, 'BILLFLOW_METRICS_PORT'), undefined),
    },
    http: {
      rateLimits: {
        login: int('BILLFLOW_RATE_LIMIT_LOGIN', 30, 0, 1_000_000),
        passwordChange: int('BILLFLOW_RATE_LIMIT_PASSWORD_CHANGE', 5, 0, 1_000_000),
        invitation: int('BILLFLOW_RATE_LIMIT_INVITATION', 10, 0, 1_000_000),
        apiKey: int('BILLFLOW_RATE_LIMIT_API_KEY', 6000, 0, 1_000_000),
      },
      // At least 5 minutes: a session's last use is recorded at most once a minute.
      sessionIdleMinutes: int('BILLFLOW_SESSION_IDLE_MINUTES', 720, 5, 20_160),
      hstsMaxAgeSeconds: int('BILLFLOW_HSTS_MAX_AGE', 15_552_000, 0, 63_072_000),
    },
    tracing: check(() => tracing(env), undefined),
    webhookAllowHosts: check(() => allowHosts(env.BILLFLOW_WEBHOOK_ALLOW_HOSTS), []),
    unknownVariables: unknownVariables(env),
  };
  if (problems.length === 1) throw new ConfigError(problems[0] ?? '', problems);
  if (problems.length > 1) {
    throw new ConfigError(
      `${problems.length} configuration problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      problems,
    );
  }
  return config;
}
