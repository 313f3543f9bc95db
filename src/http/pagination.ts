import { InvalidInputError } from '../errors.ts';

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** An opaque cursor over the sort key of the last item of a page. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * The sort key a cursor carries, checked against the shape the list expects (a tampered cursor
 * is bad input naming `cursor`, never a database error).
 */
export function decodeCursor(
  cursor: string | undefined,
  shape: readonly ('string' | 'number')[],
): (string | number)[] | null {
  if (cursor === undefined) return null;
  const invalid = () => new InvalidInputError([{ field: 'cursor', message: 'is not a cursor this list returned' }]);
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(key) || key.length !== shape.length) throw invalid();
  shape.forEach((kind, i) => {
    const value: unknown = key[i];
    if (kind === 'string' && (typeof value !== 'string' || value.length > 200)) throw invalid();
    if (kind === 'number' && (typeof value !== 'number' || !Number.isSafeInteger(value))) throw invalid();
  });
  return key as (string | number)[];
}

export function pageLimit(query: PageQuery): number {
  return query.limit ?? 50;
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only says that there is a next page.
 * `keyOf` gives the sort key the next query continues after.
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  keyOf: (row: R) => (string | number)[],
  map: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  return { items: shown.map(map), next_cursor: more && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

/** Timestamps from either driver as ISO 8601 strings. */
export function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** A validated `date-time` string as a Date the database accepts, or 400 naming `field`. */
export function parseTimestamp(value: string, field: string): Date {
  const date = new Date(value);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1900 || year > 9999) {
    throw new InvalidInputError([{ field, message: 'must be a date-time between the years 1900 and 9999' }]);
  }
  return date;
}
