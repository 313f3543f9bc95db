// The service's logger: JSON lines (pino), readable lines on a terminal, secrets kept out of both.
import { createRequire } from 'node:module';
import pino from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import type { EngineHooks } from '../engine/index.ts';

export type LogFormat = 'json' | 'pretty';

export interface LoggerSettings {
  level: string;
  /** Default: pretty when stdout is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

export const REDACTED = '[redacted]';

// Keys whose value is a credential wherever it appears (top level, or one object down, e.g. the
// `config`, `headers` or `endpoint` of a log line). pino redacts these by path, at no cost to
// lines without them.
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'token',
  'apiKey',
  'api_key',
  'secretKey',
  'secret_key',
  'webhookSecret',
  'webhook_secret',
  'signing_secret',
  'smtpUrl',
  'smtp_url',
  'databaseUrl',
  'database_url',
  '["x-csrf-token"]',
  '["x-api-key"]',
  '["stripe-signature"]',
  '["webhook-signature"]',
  '["set-cookie"]',
];

export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => (k.startsWith('[') ? `*${k}` : `*.${k}`)),
  ...SECRET_KEYS.map((k) => (k.startsWith('[') ? `*.headers${k}` : `*.headers.${k}`)),
];

// scheme://user:password@host — the password goes, the rest stays useful.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/gi;
// Credentials passed in a query string (one-time setup links, signed URLs).
const QUERY_SECRET = /([?&](?:token|key|api_key|secret|password|signature|code)=)[^&#\s]*/gi;

/** A text with the passwords of URLs in it replaced. */
export function scrubCredentials(text: string): string {
  return text.includes('://') ? text.replace(URL_PASSWORD, `$1:${REDACTED}@`) : text;
}

/** A request URL with secret query parameters (a setup link's token, a signature) replaced. */
function scrubRequestUrl(url: string): string {
  return url.includes('?') ? url.replace(QUERY_SECRET, `$1${REDACTED}`) : url;
}

function censor(value: unknown, path: string[]): unknown {
  // A URL-valued setting keeps its host and user, without the password.
  const key = path[path.length - 1] ?? '';
  if (typeof value === 'string' && /url$/i.test(key)) return scrubCredentials(value);
  return REDACTED;
}

// pino's error serializer (causes included), then passwords out of the message and stack: an
// error from a driver or a mail library may quote the URL it could not reach.
function errorSerializer(error: unknown): unknown {
  const serialized: unknown = error instanceof Error ? pino.stdSerializers.err(error) : error;
  if (typeof serialized !== 'object' || serialized === null) return serialized;
  const fields = serialized as Record<string, unknown>;
  const message = typeof fields.message === 'string' ? scrubCredentials(fields.message) : fields.message;
  const stack = typeof fields.stack === 'string' ? scrubCredentials(fields.stack) : fields.stack;
  if (message === fields.message && stack === fields.stack) return serialized;
  return { ...fields, message, stack };
}

interface RequestLike {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

// Fastify's own request serializer, with secrets in the query string hidden.
function requestSerializer(request: RequestLike): unknown {
  return {
    method: request.method,
    url: typeof request.url === 'string' ? scrubRequestUrl(request.url) : request.url,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'billflow' },
    redact: { paths: REDACT_PATHS, censor },
    serializers: { err: errorSerializer, error: errorSerializer, req: requestSerializer },
    hooks: {
      // Messages are written by us, but may quote an error or a URL. (A query string in a
      // message stays: the one-time setup link is logged on purpose.)
      logMethod(args, method) {
        const scrubbed = args.map((arg: unknown) => (typeof arg === 'string' ? scrubCredentials(arg) : arg));
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
}

export function createLogger(settings: LoggerSettings): Logger {
  const format = settings.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const options = loggerOptions(settings.level);
  if (format === 'json') return settings.destination ? pino(options, settings.destination) : pino(options);
  // Loaded only for a terminal; a synchronous stream, so nothing is lost when the process exits.
  const pretty = createRequire(import.meta.url)('pino-pretty') as (options: object) => DestinationStream;
  return pino(
    options,
    pretty({
      sync: true,
      colorize: settings.destination === undefined,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      ...(settings.destination ? { destination: settings.destination } : {}),
    }),
  );
}

function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { type: error.name, message: error.message, stack: error.stack };
  if (typeof error === 'object' && error !== null) {
    const e = error as { name?: unknown; message?: unknown; stack?: unknown; retryable?: unknown };
    return { type: e.name, message: e.message, stack: e.stack, retryable: e.retryable };
  }
  return { message: String(error) };
}

/** One warn line per failed attempt and one error line per failed run, each naming the run. */
export function failureLogHooks(logger: Pick<Logger, 'warn' | 'error'>): EngineHooks {
  return {
    onStepFailed(event) {
      logger.warn(
        {
          runId: event.runId,
          type: event.type,
          step: event.step,
          attempt: event.attempt,
          retryAt: event.retryAt?.toISOString(),
          err: errorFields(event.error),
        },
        event.retryAt ? 'step attempt failed; it will be retried' : 'step attempt failed',
      );
    },
    onRunFailed(event) {
      logger.error(
        {
          runId: event.runId,
          type: event.type,
          step: event.step,
          attempt: event.attempt,
          err: errorFields(event.error),
        },
        'run failed',
      );
    },
  };
}
