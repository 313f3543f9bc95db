import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import { iso } from '../pagination.ts';
import type { Role } from './roles.ts';
import { hashPassword } from './secrets.ts';

export interface UserRow {
  id: string;
  email: string;
  password_hash: string | null;
  role: Role;
  active: boolean;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface UserView {
  id: string;
  email: string;
  role: Role;
  active: boolean;
  password_set: boolean;
  created_at: string;
  updated_at: string;
}

export function userView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    active: row.active,
    password_set: row.password_hash !== null,
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
  };
}

export const USER_COLUMNS = 'id, email, password_hash, role, active, created_at, updated_at';

export async function findUserByEmail(q: Queryable, email: string): Promise<UserRow | undefined> {
  const { rows } = await q.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
  return rows[0];
}

export async function getUser(q: Queryable, id: string): Promise<UserRow> {
  const { rows } = await q.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  if (!rows[0]) throw new NotFoundError(`user ${id} not found`);
  return rows[0];
}

export async function countUsers(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
  return rows[0]?.n ?? 0;
}

/**
 * Creates a user; without a password the user exists but cannot log in until an invitation is
 * accepted. Hash the password before opening a transaction (argon2 takes tens of milliseconds).
 */
export async function insertUser(
  q: Queryable,
  input: { email: string; role: Role; passwordHash: string | null; now: Date },
): Promise<UserRow> {
  const { rows } = await q.query<UserRow>(
    `INSERT INTO users (id, email, password_hash, role, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT DO NOTHING
     RETURNING ${USER_COLUMNS}`,
    [newId('usr'), input.email.trim(), input.passwordHash, input.role, input.now],
  );
  if (!rows[0]) throw new ConflictError(`a user with email ${input.email} already exists`, { field: 'email' });
  return rows[0];
}

export function checkPassword(password: string, field = 'password'): void {
  if (password.length < 12) throw new InvalidInputError([{ field, message: 'must be at least 12 characters' }]);
  if (password.length > 256) throw new InvalidInputError([{ field, message: 'must be at most 256 characters' }]);
}

export async function createUser(
  q: Queryable,
  input: { email: string; role: Role; password: string; now: Date },
): Promise<UserRow> {
  checkPassword(input.password);
  return insertUser(q, { ...input, passwordHash: await hashPassword(input.password) });
}

/** Refuses a change that would leave no active admin (nobody could manage users any more). */
export async function assertAnotherActiveAdmin(q: Queryable, exceptUserId: string): Promise<void> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND active AND id <> $1`,
    [exceptUserId],
  );
  if ((rows[0]?.n ?? 0) === 0) throw new ConflictError('this is the last active admin', { field: 'role' });
}
