// The one place that tells "the database is unreachable right now" from every other failure.
// Such an error says nothing about the request: the same request can succeed once the database
// is back (HTTP answers 503 with Retry-After; nothing was done).

/** SQLSTATEs of a server that is going away, starting up, or refusing new connections. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: terminated by pg_terminate_backend or a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
]);

/** Socket errors of a connection that could not be made or was cut. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
]);

/** Messages of node-postgres (pool and client) and PGlite for a lost or closed connection. */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/, // unexpectedly, or due to connection timeout
  /^timeout exceeded when trying to connect$/, // the pool had no connection in time
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
  /^PGlite is closed$/,
  /is not currently accepting connections$/, // SQLSTATE 55000, ALLOW_CONNECTIONS false
];

/**
 * Whether `error` (or what caused it) means the database cannot be reached at the moment:
 * connection refused, reset or timed out, the pool out of connections in time, the server
 * terminating its sessions or refusing new ones, the embedded database closed.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return unavailable(error, 0, true);
}

function unavailable(error: unknown, depth: number, socketCodes: boolean): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (UNAVAILABLE_SQLSTATES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code)) return true;
    // node-postgres raises socket errors as they are; one found only as the cause of another
    // error (a failed fetch to a payment provider) is not the database's.
    if (socketCodes && UNAVAILABLE_SOCKET_CODES.has(e.code)) return true;
  }
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((m) => m.test(e.message as string))) return true;
  // Node reports a refused connection to every address of a name as one AggregateError.
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    return e.errors.every((x) => unavailable(x, depth + 1, socketCodes));
  }
  return unavailable(e.cause, depth + 1, false);
}
