// Only one process may open the embedded database. While a server holds it, the command line
// hands its admin commands to that server over a Unix socket inside the data folder, in a
// directory only the folder's owner can enter.
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { DataDirInUseError } from '../db/lock.ts';
import { migrate } from '../db/migrate.ts';
import type { Db } from '../db/types.ts';
import { BillflowError, ConflictError, InvalidInputError, NotFoundError } from '../errors.ts';
import type { PaymentProvider } from '../providers/types.ts';
import type { Registry } from '../engine/index.ts';
import { runAdminCommand } from './admin-commands.ts';
import type { AdminCommand, AdminContext, AdminResult } from './admin-commands.ts';

const MAX_MESSAGE = 64 * 1024;

export function adminSocketPath(dataDir: string): string {
  return path.join(dataDir, 'admin', 'admin.sock');
}

interface Reply {
  ok: boolean;
  result?: AdminResult;
  error?: { name: string; message: string; errors?: { field: string; message: string }[] };
}

/** A failure the server reported, re-raised in the CLI with the server's message. */
export class AdminCommandError extends Error {}

/**
 * Listens for admin commands on `<dataDir>/admin/admin.sock` (directory 0700, socket 0600).
 * Call it once the database is open and migrated; close it before closing the database.
 */
export async function startLocalAdminSocket(options: {
  dataDir: string;
  db: Db;
  logger?: FastifyBaseLogger;
  clock?: () => Date;
  /** The server's payment provider, for `billflow reconcile`. */
  provider?: PaymentProvider;
  /** The server's workflows, told of a cancel in its transaction. */
  workflows?: Registry;
}): Promise<{ path: string; close(): Promise<void> }> {
  const socketPath = adminSocketPath(options.dataDir);
  const dir = path.dirname(socketPath);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const owner = await stat(dir);
  if (typeof process.getuid === 'function' && owner.uid !== process.getuid()) {
    throw new Error(`${dir} belongs to another user; refusing to listen there`);
  }
  // This process holds the data folder's lock, so a socket file left here is from a dead server.
  await rm(socketPath, { force: true });
  const server = net.createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_MESSAGE) return socket.destroy();
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      const line = buffer.slice(0, end);
      socket.removeAllListeners('data');
      void answer(line).then((reply) => socket.end(`${JSON.stringify(reply)}\n`));
    });
  });
  const answer = async (line: string): Promise<Reply> => {
    try {
      const command = JSON.parse(line) as AdminCommand;
      const result = await runAdminCommand(options.db, command, {
        now: (options.clock ?? (() => new Date()))(),
        provider: options.provider,
        workflows: options.workflows,
      });
      options.logger?.info({ command: command.command, actor: command.actor }, 'admin command from the local socket');
      return { ok: true, result };
    } catch (error) {
      if (!(error instanceof BillflowError)) options.logger?.error({ err: error }, 'admin command failed');
      const name = error instanceof BillflowError ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      const errors = error instanceof InvalidInputError ? error.errors : undefined;
      return { ok: false, error: { name, message, ...(errors && { errors }) } };
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

/** Sends a command to a server on this data folder; null when no server is listening there. */
export async function sendAdminCommand(dataDir: string, command: AdminCommand): Promise<AdminResult | null> {
  const socketPath = adminSocketPath(dataDir);
  const reply = await new Promise<Reply | null>((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(command)}\n`));
    socket.on('data', (chunk: string) => (buffer += chunk));
    socket.on('end', () => {
      try {
        resolve(JSON.parse(buffer) as Reply);
      } catch {
        reject(new AdminCommandError('the running server sent no answer'));
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(null);
      else reject(error);
    });
  });
  if (reply === null) return null;
  if (!reply.ok || !reply.result) {
    // The same error as when the command runs here, so it reads the same.
    const error = reply.error;
    if (error?.name === 'InvalidInputError' && Array.isArray(error.errors)) throw new InvalidInputError(error.errors);
    throw new AdminCommandError(error?.message ?? 'the command failed');
  }
  return reply.result;
}

/** How long a command waits for a server that holds the embedded database to answer on its socket. */
export const SERVER_WAIT_MS = 30_000;

/** Whether opening the database failed because another process holds the embedded folder. */
function heldByAnotherProcess(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof DataDirInUseError) return true;
  }
  return false;
}

/**
 * Runs an admin command where it can run: on PostgreSQL directly; on the embedded database via
 * the running server when there is one, else by opening the folder itself. While another process
 * holds the folder (a server still starting, another command), it keeps trying both ways for up
 * to `waitMs`, and says once through `onWaiting` that it waits.
 */
export async function executeAdminCommand(options: {
  command: AdminCommand;
  dataDir: string;
  embedded: boolean;
  openDb: () => Promise<Db>;
  /** What a command run in this process needs besides the database (the provider). */
  context?: (db: Db) => AdminContext;
  waitMs?: number;
  onWaiting?: (reason: string) => void;
  /** False: run on the database as it is, unmigrated (a backup taken before an upgrade). */
  migrate?: boolean;
}): Promise<AdminResult> {
  const deadline = Date.now() + (options.waitMs ?? SERVER_WAIT_MS);
  let waiting = false;
  for (;;) {
    if (options.embedded) {
      const viaServer = await sendAdminCommand(options.dataDir, options.command);
      if (viaServer) return viaServer;
    }
    let db: Db;
    try {
      db = await options.openDb();
    } catch (error) {
      if (!options.embedded || !heldByAnotherProcess(error) || Date.now() >= deadline) throw error;
      if (!waiting) {
        waiting = true;
        options.onWaiting?.(error instanceof Error ? error.message : String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    try {
      if (options.migrate !== false) await migrate(db);
      return await runAdminCommand(db, options.command, options.context?.(db) ?? {});
    } finally {
      await db.close();
    }
  }
}

/** A message for a person at a terminal. */
export function describeAdminError(error: unknown): string | null {
  if (error instanceof InvalidInputError) return error.errors.map((e) => `--${e.field}: ${e.message}`).join('; ');
  if (error instanceof ConflictError || error instanceof NotFoundError || error instanceof AdminCommandError) {
    return error.message;
  }
  return null;
}
