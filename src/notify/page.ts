import { InvalidInputError } from '../errors.ts';

/** One page of a newest-first list; pass `next_cursor` back as `cursor` for the next page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface PageRequest {
  limit?: number;
  cursor?: string;
}

/**
 * Keyset pages on (created_at, id): the cursor carries the timestamp as the database printed
 * it (microseconds intact, which a JS Date would drop) and the id that breaks ties.
 */
export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

export function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) {
      return value as [string, string];
    }
  } catch {
    // reported below
  }
  throw new InvalidInputError([{ field: 'cursor', message: 'is not a cursor from a previous page' }]);
}

export function pageLimit(limit: number | undefined, fallback = 50): number {
  const value = limit ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > 500) {
    throw new InvalidInputError([{ field: 'limit', message: 'must be an integer from 1 to 500' }]);
  }
  return value;
}

/** Cuts the extra row fetched to learn whether another page follows. */
export function toPage<T extends { id: string }>(rows: (T & { cursor_at: string })[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(({ cursor_at: _, ...item }) => item as unknown as T),
    next_cursor: rows.length > limit && last ? encodeCursor(last.cursor_at, last.id) : null,
  };
}
