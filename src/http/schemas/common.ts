// Small input checks shared by the resource routes, beyond what JSON schema can say.
import { createHash } from 'node:crypto';
import { AuthenticationError, InvalidInputError } from '../../errors.ts';
import { actorOf } from '../auth/principal.ts';
import type { Principal } from '../auth/principal.ts';

/**
 * A date-time query/body value as a Date the database accepts: JSON schema checks the format,
 * this keeps years PostgreSQL or the drivers cannot take (0000, BC) out as bad input.
 */
export function dateInput(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1 || year > 9999) {
    throw new InvalidInputError([{ field, message: 'must be a date-time between years 0001 and 9999' }]);
  }
  return date;
}

/** A YYYY-MM-DD day that exists in the calendar (2026-02-30 does not). */
export function dayInput(value: string, field: string): string {
  const date = new Date(`${value}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new InvalidInputError([{ field, message: 'must be a date, YYYY-MM-DD' }]);
  }
  if (date.getUTCFullYear() < 1) throw new InvalidInputError([{ field, message: 'must be after year 0000' }]);
  return value;
}

/**
 * The engine's run-list cursor carries a database timestamp: check it is one before the database
 * sees it, so a tampered cursor is bad input naming `cursor`, never a database error.
 */
export function checkRunCursor(cursor: string | undefined): void {
  if (cursor === undefined) return;
  const invalid = new InvalidInputError([{ field: 'cursor', message: 'is not a cursor this list returned' }]);
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(key) || key.length !== 2 || typeof key[0] !== 'string' || typeof key[1] !== 'string')
    throw invalid;
  const [at, id] = key as [string, string];
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?([+-]\d{2}(:\d{2})?)$/.exec(at);
  if (!m || id.length > 100) throw invalid;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const probe = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
  if (
    (y as number) < 1 ||
    probe.getUTCMonth() !== (mo as number) - 1 ||
    probe.getUTCDate() !== d ||
    (h as number) > 23 ||
    (mi as number) > 59 ||
    (s as number) > 59
  ) {
    throw invalid;
  }
}

/** The audit actor of a route that is never public. */
export function actorFrom(principal: Principal | null): string {
  if (!principal) throw new AuthenticationError();
  return actorOf(principal);
}

/**
 * The idempotency key an operation gets for a request's `Idempotency-Key` header, scoped to the
 * caller so two callers' keys never meet (hashed when it would pass the engine's 255 characters).
 */
export function operationKey(actor: string, header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const key = `api:${actor}:${header}`;
  return key.length <= 255 ? key : `api:${actor}:sha256:${createHash('sha256').update(header).digest('hex')}`;
}
