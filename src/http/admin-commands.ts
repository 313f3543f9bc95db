// The administrative commands of the command line (`billflow user create`, `billflow api-key
// create`), run either in the CLI's own process or, when a server holds the embedded database,
// inside that server (see admin-socket.ts).
import type { Db } from '../db/types.ts';
import { InvalidInputError } from '../errors.ts';
import { recordAudit } from './audit.ts';
import { apiKeyView, createApiKey } from './auth/api-keys.ts';
import type { ApiKeyView } from './auth/api-keys.ts';
import { isRole } from './auth/roles.ts';
import { hashPassword } from './auth/secrets.ts';
import { checkPassword, insertUser, userView } from './auth/users.ts';
import type { UserView } from './auth/users.ts';
import { parseTimestamp } from './pagination.ts';

export type AdminCommand =
  | { command: 'user.create'; email: string; role: string; password: string }
  | { command: 'api_key.create'; name: string; role: string; expiresAt?: string | null };

export type AdminResult = { kind: 'user'; user: UserView } | { kind: 'api_key'; apiKey: ApiKeyView; key: string };

function roleOf(value: unknown) {
  if (!isRole(value)) {
    throw new InvalidInputError([
      { field: 'role', message: 'must be one of admin, developer, account_manager, customer_support, viewer' },
    ]);
  }
  return value;
}

/** Runs one command against the database; audited with the actor `cli`. */
export async function runAdminCommand(db: Db, input: AdminCommand, now: Date = new Date()): Promise<AdminResult> {
  if (input.command === 'user.create') {
    const role = roleOf(input.role);
    const email = String(input.email ?? '').trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) {
      throw new InvalidInputError([{ field: 'email', message: 'must be an email address' }]);
    }
    checkPassword(String(input.password ?? ''));
    const passwordHash = await hashPassword(input.password);
    const user = await db.transaction(async (tx) => {
      const row = await insertUser(tx, { email, role, passwordHash, now });
      await recordAudit(tx, {
        actor: 'cli',
        action: 'user.create',
        target: `user:${row.id}`,
        details: { role },
        at: now,
      });
      return row;
    });
    return { kind: 'user', user: userView(user) };
  }
  if (input.command === 'api_key.create') {
    const role = roleOf(input.role);
    const name = String(input.name ?? '').trim();
    if (name.length < 1 || name.length > 100) {
      throw new InvalidInputError([{ field: 'name', message: 'must be 1 to 100 characters' }]);
    }
    const expiresAt = input.expiresAt ? parseTimestamp(input.expiresAt, 'expires-at') : null;
    if (expiresAt && expiresAt.getTime() <= now.getTime()) {
      throw new InvalidInputError([{ field: 'expires-at', message: 'must be in the future' }]);
    }
    return db.transaction(async (tx) => {
      const { key, row } = await createApiKey(tx, { name, role, expiresAt, createdBy: 'cli', now });
      await recordAudit(tx, {
        actor: 'cli',
        action: 'api_key.create',
        target: `api_key:${row.id}`,
        details: { name, role },
        at: now,
      });
      return { kind: 'api_key', apiKey: apiKeyView(row), key };
    });
  }
  throw new InvalidInputError([{ field: 'command', message: 'unknown command' }]);
}
