import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { DatabaseConfigError } from './db/connect.ts';
import { SchemaTooNewError, migrate } from './db/migrate.ts';
import { billingDeps, createLogger, openConfiguredDatabase, startService, workflowRegistry } from './main.ts';
import { SERVER_WAIT_MS, describeAdminError, executeAdminCommand } from './http/admin-socket.ts';
import type { AdminCommand, RunActionName } from './http/admin-commands.ts';
import { adminResultJson, formatAdminResult } from './http/admin-format.ts';
import { readPassword } from './http/password-prompt.ts';
import { backupCommand, restoreCommand } from './cli/backup.ts';

type OptionType = 'string' | 'boolean';

interface OptionSpec {
  type: OptionType;
  short?: string;
  /** `--name VALUE` in the help. */
  value?: string;
  description: string;
}

interface CommandSpec {
  /** `runs restart` */
  name: string;
  /** The positional arguments after the command words, e.g. ["ID"]. */
  args: string[];
  summary: string;
  options: Record<string, OptionSpec>;
  /** More to say under the usage line. */
  notes?: string;
}

const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print JSON instead of a table' };
const REASON: OptionSpec = { type: 'string', value: 'TEXT', description: 'why (required; kept in the audit log)' };
const ROLE: OptionSpec = {
  type: 'string',
  value: 'ROLE',
  description: 'admin, developer, account_manager, customer_support or viewer',
};

const COMMANDS: CommandSpec[] = [
  {
    name: 'start',
    args: [],
    summary: 'API and workers (embedded database in BILLFLOW_DATA_DIR unless DATABASE_URL is set)',
    options: { port: { type: 'string', value: 'N', description: 'HTTP port (default PORT, else 3000; 0 picks one)' } },
  },
  { name: 'worker', args: [], summary: 'workers only, to scale out on PostgreSQL (needs DATABASE_URL)', options: {} },
  { name: 'migrate', args: [], summary: 'apply database migrations and exit', options: {} },
  {
    name: 'user create',
    args: [],
    summary: 'create a user; the password is asked for (or read from stdin), never an argument',
    options: { email: { type: 'string', value: 'EMAIL', description: 'their email address' }, role: ROLE },
  },
  {
    name: 'user set-role',
    args: [],
    summary: "change a user's role (the last active admin stays admin)",
    options: {
      email: { type: 'string', value: 'EMAIL', description: 'the user' },
      role: ROLE,
      reason: { ...REASON, description: 'why (optional; kept in the audit log)' },
    },
  },
  {
    name: 'user reset-password',
    args: [],
    summary: "set a user's password (asked for, or read from stdin) and end their sessions",
    options: {
      email: { type: 'string', value: 'EMAIL', description: 'the user' },
      reason: { ...REASON, description: 'why (optional; kept in the audit log)' },
    },
  },
  {
    name: 'api-key create',
    args: [],
    summary: 'create an API key and print it (shown once)',
    options: {
      name: { type: 'string', value: 'NAME', description: 'what it is for' },
      role: ROLE,
      'expires-at': { type: 'string', value: 'ISO-8601', description: 'when it stops working (default: never)' },
    },
  },
  {
    name: 'runs list',
    args: [],
    summary: 'workflow runs, newest first',
    options: {
      type: { type: 'string', value: 'TYPE', description: 'a workflow type, e.g. payment_failure' },
      status: { type: 'string', value: 'STATUS', description: 'pending, in_progress, completed, failed or cancelled' },
      since: {
        type: 'string',
        value: 'WHEN',
        description: 'created at or after: an ISO-8601 time or an age such as 30m, 24h, 7d',
      },
      limit: { type: 'string', value: 'N', description: 'at most N runs (1 to 500, default 50)' },
      json: JSON_OPTION,
    },
  },
  {
    name: 'runs show',
    args: ['ID'],
    summary: 'one run: its steps, attempts and operator actions',
    options: { json: JSON_OPTION },
  },
  {
    name: 'runs restart',
    args: ['ID'],
    summary: 'restart a failed run from its failed step (completed steps never run again)',
    options: { reason: REASON, json: JSON_OPTION },
  },
  {
    name: 'runs cancel',
    args: ['ID'],
    summary: 'cancel a pending, in-progress or failed run for good',
    options: { reason: REASON, json: JSON_OPTION },
  },
  {
    name: 'runs skip',
    args: ['ID'],
    summary: 'skip the failed step of a failed run and go on after it',
    options: { reason: REASON, json: JSON_OPTION },
  },
  {
    name: 'runs bulk-restart',
    args: [],
    summary: 'restart every failed run of a type (the workers do it in throttled batches)',
    options: {
      type: { type: 'string', value: 'TYPE', description: 'the workflow type (required)' },
      'dry-run': { type: 'boolean', description: 'only count what would be restarted' },
      'include-permanent': {
        type: 'boolean',
        description: 'also runs whose error was permanent (left out by default: they fail the same way again)',
      },
      reason: REASON,
      json: JSON_OPTION,
    },
  },
  {
    name: 'reconcile',
    args: [],
    summary: 'check that nothing was lost: records, Stripe events, statistics, leases, the provider',
    options: { json: JSON_OPTION },
    notes: 'Exit status: 0 when every check passed, 3 when something was found, 1 when it could not run.',
  },
  {
    name: 'backup',
    args: [],
    summary: 'copy the embedded database to a file, also while the server runs',
    options: { to: { type: 'string', value: 'FILE', description: 'the backup file to write (a gzipped tar)' } },
    notes:
      'The file holds everything, password hashes included: keep it as safe as the data folder.\n' +
      'On PostgreSQL use pg_dump or base backups with WAL archiving instead (docs/operations.md).',
  },
  {
    name: 'restore',
    args: [],
    summary: 'put a backup in place of the embedded database (the server must be stopped)',
    options: {
      from: { type: 'string', value: 'FILE', description: 'a file written by billflow backup' },
      force: { type: 'boolean', description: 'replace a database already in BILLFLOW_DATA_DIR' },
    },
    notes: 'The backup is opened and checked in a new folder first; nothing is replaced unless that works.',
  },
  { name: 'help', args: [], summary: 'this text', options: {} },
];

const NOUNS = new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0] as string));

function commandUsage(spec: CommandSpec): string {
  const required = spec.args.map((a) => ` ${a}`).join('');
  const lines = [`Usage: billflow ${spec.name}${required}${Object.keys(spec.options).length ? ' [options]' : ''}`, ''];
  lines.push(spec.summary);
  const options = Object.entries({ ...spec.options, help: { type: 'boolean', description: 'this text' } } as Record<
    string,
    OptionSpec
  >);
  const left = options.map(([name, o]) => `  --${name}${o.value ? ` ${o.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  lines.push('', 'Options:', ...options.map(([, o], i) => `${(left[i] as string).padEnd(width)}${o.description}`));
  if (spec.notes) lines.push('', spec.notes);
  return lines.join('\n');
}

function globalUsage(): string {
  const names = COMMANDS.map((c) => `${c.name}${c.args.map((a) => ` ${a}`).join('')}`);
  const width = Math.max(...names.map((n) => n.length)) + 4;
  return `Usage: billflow <command> [options]

Commands:
${COMMANDS.map((c, i) => `  ${(names[i] as string).padEnd(width)}${c.summary}`).join('\n')}

"billflow <command> --help" shows a command's options. Commands other than start, worker, migrate and
restore reach a running server through its admin socket on the embedded database, or the database
directly on PostgreSQL; every change they make is audited with your operating-system user.

Environment: DATABASE_URL, BILLFLOW_DATA_DIR (default ./.billflow), PORT (default 3000), HOST,
LOG_LEVEL, BILLFLOW_WORKER_CONCURRENCY, BILLFLOW_LEASE_MS, BILLFLOW_POLL_INTERVAL_MS,
BILLFLOW_SHUTDOWN_GRACE_MS. See README.md.`;
}

/** A mistake in the command line: one line, then the usage it should follow; exit status 2. */
class UsageError extends Error {
  readonly usage: string;
  constructor(message: string, usage: string = globalUsage()) {
    super(message);
    this.usage = usage;
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function parsePort(value: string | undefined, usage: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535 (got "${value}")`, usage);
  }
  return port;
}

/** node:util's messages, made one short line: "unknown option '--bogus'". */
function describeParseError(error: unknown): string | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return null;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']+)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option '${quoted ?? message}'`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument '${quoted ?? message}'`;
  return (message.split('. ')[0] ?? message).replace(/^Option/, 'option');
}

type Values = Record<string, string | boolean | undefined>;

function parse(args: string[], options: Record<string, OptionSpec>, usage: string) {
  const config = Object.fromEntries(
    Object.entries({ ...options, help: { type: 'boolean', short: 'h', description: '' } } as Record<
      string,
      OptionSpec
    >).map(([name, o]) => [name, { type: o.type, ...(o.short && { short: o.short }) }]),
  );
  try {
    const { values, positionals } = parseArgs({ args, options: config, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (error) {
    const message = describeParseError(error);
    if (message === null) throw error;
    throw new UsageError(message, usage);
  }
}

/** The command the words at the start of argv name, and the arguments after them. */
function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | { help: string } | null {
  const first = argv[0];
  if (first === undefined || first.startsWith('-')) return null;
  if (NOUNS.has(first)) {
    const sub = argv[1];
    const nounCommands = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    const nounUsage = `Usage: billflow ${first} <command> [options]\n\nCommands:\n${nounCommands
      .map((c) => `  ${c.name}${c.args.map((a) => ` ${a}`).join('')}\n      ${c.summary}`)
      .join('\n')}\n\n"billflow ${first} <command> --help" shows a command's options.`;
    if (sub === undefined || sub.startsWith('-')) {
      if (sub === '--help' || sub === '-h') return { help: nounUsage };
      throw new UsageError(`"${first}" needs a command`, nounUsage);
    }
    const spec = COMMANDS.find((c) => c.name === `${first} ${sub}`);
    if (!spec) throw new UsageError(`unknown command "${first} ${sub}"`, nounUsage);
    return { spec, rest: argv.slice(2) };
  }
  const spec = COMMANDS.find((c) => c.name === first);
  if (!spec) throw new UsageError(`unknown command "${first}"`);
  return { spec, rest: argv.slice(1) };
}

async function run(argv: string[]): Promise<number> {
  const found = findCommand(argv);
  if (!found) {
    const { values } = parse(argv, { version: { type: 'boolean', short: 'v', description: '' } }, globalUsage());
    if (values.version) {
      console.log(version());
      return 0;
    }
    console.log(globalUsage());
    return 0;
  }
  if ('help' in found) {
    console.log(found.help);
    return 0;
  }
  const { spec, rest } = found;
  if (spec.name === 'help') {
    console.log(globalUsage());
    return 0;
  }
  const usage = commandUsage(spec);
  const { values, positionals } = parse(rest, spec.options, usage);
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length > spec.args.length) {
    throw new UsageError(`unexpected argument "${positionals[spec.args.length]}"`, usage);
  }
  if (positionals.length < spec.args.length) {
    throw new UsageError(`"${spec.name}" needs ${spec.args.slice(positionals.length).join(' ')}`, usage);
  }
  const need = (name: string): string => {
    const value = values[name];
    if (typeof value !== 'string' || !value.trim()) throw new UsageError(`"${spec.name}" needs --${name}`, usage);
    return value;
  };
  const optional = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };

  switch (spec.name) {
    case 'start':
    case 'worker':
      return serve(spec.name, parsePort(optional('port'), usage), usage);
    case 'migrate':
      return migrateOnly();
    case 'user create':
      return admin({
        command: 'user.create',
        email: need('email'),
        role: need('role'),
        password: await readPassword(),
      });
    case 'user set-role':
      return admin({ command: 'user.set_role', email: need('email'), role: need('role'), reason: optional('reason') });
    case 'user reset-password': {
      const email = need('email');
      return admin({
        command: 'user.reset_password',
        email,
        password: await readPassword(),
        reason: optional('reason'),
      });
    }
    case 'api-key create':
      return admin({
        command: 'api_key.create',
        name: need('name'),
        role: need('role'),
        expiresAt: optional('expires-at') ?? null,
      });
    case 'runs list': {
      const limitText = optional('limit');
      const limit = limitText === undefined ? undefined : Number(limitText);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) {
        throw new UsageError(`--limit must be an integer from 1 to 500 (got "${limitText}")`, usage);
      }
      const since = optional('since');
      return admin(
        {
          command: 'runs.list',
          type: optional('type'),
          status: optional('status'),
          since: since === undefined ? undefined : sinceTime(since, usage),
          limit,
        },
        values.json === true,
      );
    }
    case 'runs show':
      return admin({ command: 'runs.show', id: positionals[0] as string }, values.json === true);
    case 'runs restart':
    case 'runs cancel':
    case 'runs skip':
      return admin(
        {
          command: 'runs.action',
          action: spec.name.slice(5) as RunActionName,
          id: positionals[0] as string,
          reason: need('reason'),
        },
        values.json === true,
      );
    case 'runs bulk-restart':
      return admin(
        {
          command: 'runs.bulk_restart',
          type: need('type'),
          dryRun: values['dry-run'] === true,
          includePermanent: values['include-permanent'] === true,
          reason: need('reason'),
        },
        values.json === true,
      );
    case 'reconcile':
      return admin({ command: 'reconcile' }, values.json === true);
    case 'backup': {
      const to = need('to');
      const config = loadConfig(process.env);
      const openDb = () => openConfiguredDatabase(config, createLogger(config));
      return backupCommand({ config, to, actor: osUser(), openDb });
    }
    case 'restore': {
      const from = need('from');
      return restoreCommand({ config: loadConfig(process.env), from, force: values.force === true });
    }
  }
  throw new UsageError(`unknown command "${spec.name}"`);
}

/** `--since`: an ISO-8601 time, or an age (`30m`, `24h`, `7d`) counted back from now. */
function sinceTime(value: string, usage: string): string {
  const age = /^(\d+)([mhd])$/.exec(value.trim());
  if (age) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as 'm' | 'h' | 'd'];
    return new Date(Date.now() - Number(age[1]) * unit).toISOString();
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new UsageError(`--since must be an ISO-8601 time or an age such as 30m, 24h, 7d (got "${value}")`, usage);
  }
  return date.toISOString();
}

async function migrateOnly(): Promise<number> {
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  const db = await openConfiguredDatabase(config, logger);
  try {
    const applied = await migrate(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await db.close();
  }
  return 0;
}

async function serve(command: 'start' | 'worker', port: number | undefined, usage: string): Promise<number> {
  const config = loadConfig(process.env, { port });
  const logger = createLogger(config);
  if (command === 'worker' && !config.databaseUrl) {
    throw new UsageError(
      'billflow worker needs DATABASE_URL: the embedded database serves a single process (use billflow start)',
      usage,
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

/** The operating-system user running this command: the actor of its audit entries. */
function osUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME;
  }
}

/** Runs an admin command with or without a running server, and prints its answer. */
async function admin(command: AdminCommand, json = false): Promise<number> {
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  let result;
  try {
    result = await executeAdminCommand({
      command: { ...command, actor: osUser() },
      dataDir: config.dataDir,
      embedded: !config.databaseUrl,
      openDb: () => openConfiguredDatabase(config, logger),
      context: (db) => {
        const deps = billingDeps(config, db);
        return { provider: deps.provider, workflows: workflowRegistry(deps) };
      },
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
  if (json) {
    console.log(JSON.stringify(adminResultJson(result), null, 2));
  } else if (result.kind === 'user') {
    const verb = command.command === 'user.create' ? 'created' : 'updated';
    console.log(`${verb} ${formatAdminResult(result)}`);
    if (result.sessions_revoked !== undefined) console.log(`sessions ended: ${result.sessions_revoked}`);
  } else if (result.kind === 'api_key') {
    // The key alone on stdout, so `KEY=$(billflow api-key create …)` works; the rest on stderr.
    console.error(
      `created API key "${result.apiKey.name}" (${result.apiKey.role}), id ${result.apiKey.id}; it is shown only now:`,
    );
    console.log(result.key);
  } else {
    console.log(formatAdminResult(result, { baseUrl: config.publicUrl }));
  }
  if (result.kind === 'reconciliation' && !result.report.ok) return 3;
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`billflow: ${error.message}`);
      console.error(error.usage);
      process.exitCode = 2;
      return;
    }
    const known =
      error instanceof ConfigError || error instanceof DatabaseConfigError || error instanceof SchemaTooNewError;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`billflow: ${known ? message : ((error as Error).stack ?? message)}`);
    process.exitCode = 1;
  },
);
