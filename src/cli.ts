import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { DatabaseConfigError } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import { createLogger, openConfiguredDatabase, startService } from './main.ts';
import { SERVER_WAIT_MS, describeAdminError, executeAdminCommand } from './http/admin-socket.ts';
import type { AdminCommand } from './http/admin-commands.ts';
import { readPassword } from './http/password-prompt.ts';

const USAGE = `Usage: billflow <command> [options]

Commands:
  start [--port N]   API and workers (embedded database in BILLFLOW_DATA_DIR unless DATABASE_URL is set)
  worker             workers only, to scale out on PostgreSQL (needs DATABASE_URL)
  migrate            apply database migrations and exit
  user create --email E --role R
                     create a user; the password is asked for (or read from stdin), never an argument
  api-key create --name N --role R [--expires-at ISO-8601]
                     create an API key and print it (shown once)
  help               this text

Environment: DATABASE_URL, BILLFLOW_DATA_DIR (default ./.billflow), PORT (default 3000), HOST,
LOG_LEVEL, BILLFLOW_WORKER_CONCURRENCY, BILLFLOW_LEASE_MS, BILLFLOW_POLL_INTERVAL_MS,
BILLFLOW_SHUTDOWN_GRACE_MS. See README.md.`;

class UsageError extends Error {}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535 (got "${value}")`);
  }
  return port;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      email: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      'expires-at': { type: 'string' },
    },
  });
  const command = positionals[0] ?? (values.version ? 'version' : 'help');
  if (values.help || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command === 'version') {
    console.log(version());
    return 0;
  }
  if (command === 'user' || command === 'api-key') return adminCommand(command, positionals.slice(1), values);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  if (values.port !== undefined && command !== 'start') throw new UsageError('--port goes with start');

  const config = loadConfig(process.env, { port: parsePort(values.port) });
  const logger = createLogger(config);

  if (command === 'migrate') {
    const db = await openConfiguredDatabase(config, logger);
    try {
      const applied = await migrate(db);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    } finally {
      await db.close();
    }
    return 0;
  }
  if (command !== 'start' && command !== 'worker') throw new UsageError(`unknown command "${command}"`);
  if (command === 'worker' && !config.databaseUrl) {
    throw new UsageError(
      'billflow worker needs DATABASE_URL: the embedded database serves a single process (use billflow start)',
    );
  }
  const service = await startService(config, logger, { api: command === 'start', workers: true });
  if (service.url) logger.info({ url: service.url }, `Billflow is running at ${service.url}`);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down: finishing running steps');
      service.close().then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return 0;
}

interface AdminOptions {
  email?: string;
  role?: string;
  name?: string;
  'expires-at'?: string;
  port?: string;
}

/** `billflow user create …` / `billflow api-key create …`, with or without a running server. */
async function adminCommand(noun: 'user' | 'api-key', rest: string[], values: AdminOptions): Promise<number> {
  if (rest[0] !== 'create' || rest.length > 1) throw new UsageError(`usage: billflow ${noun} create …`);
  if (values.port !== undefined) throw new UsageError('--port goes with start');
  const need = (name: 'email' | 'role' | 'name') => {
    const value = values[name];
    if (!value) throw new UsageError(`billflow ${noun} create needs --${name}`);
    return value;
  };
  let command: AdminCommand;
  if (noun === 'user') {
    const email = need('email');
    const role = need('role');
    const password = await readPassword();
    command = { command: 'user.create', email, role, password };
  } else {
    command = {
      command: 'api_key.create',
      name: need('name'),
      role: need('role'),
      expiresAt: values['expires-at'] ?? null,
    };
  }
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  let result;
  try {
    result = await executeAdminCommand({
      command,
      dataDir: config.dataDir,
      embedded: !config.databaseUrl,
      openDb: () => openConfiguredDatabase(config, logger),
      onWaiting: () =>
        console.error(
          `billflow: another process holds the embedded database; waiting up to ${SERVER_WAIT_MS / 1000} s ` +
            'for its admin socket…',
        ),
    });
  } catch (error) {
    const message = describeAdminError(error);
    if (message === null) throw error;
    console.error(`billflow: ${message}`);
    return 1;
  }
  if (result.kind === 'user') {
    console.log(`created user ${result.user.email} (${result.user.role}), id ${result.user.id}`);
  } else {
    // The key alone on stdout, so `KEY=$(billflow api-key create …)` works; the rest on stderr.
    console.error(
      `created API key "${result.apiKey.name}" (${result.apiKey.role}), id ${result.apiKey.id}; it is shown only now:`,
    );
    console.log(result.key);
  }
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof UsageError || error instanceof ConfigError || error instanceof DatabaseConfigError;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`billflow: ${known ? message : ((error as Error).stack ?? message)}`);
    if (error instanceof UsageError) console.error('Run "billflow help" for usage.');
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
