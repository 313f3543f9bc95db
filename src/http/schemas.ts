import { ROLES } from './auth/roles.ts';
import type { JsonSchema } from './route.ts';

/** RFC 9457 problem details, the body of every error response. */
export const problemSchema: JsonSchema = {
  title: 'Problem',
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
};

const PROBLEM_TITLES: Record<number, string> = {
  400: 'Invalid input',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  429: 'Too many requests',
  503: 'Service unavailable',
};

/**
 * The error responses of a route: the usual ones plus `extra`. Any route answers 503 (with
 * Retry-After) while the database is unreachable.
 */
export function problemResponses(...extra: number[]): Record<number, JsonSchema> {
  // 429: every authenticated request counts against its API key's rate limit (rate-limits.ts).
  const codes = new Set([400, 401, 403, 404, 413, 415, 429, ...extra, 503]);
  return Object.fromEntries(
    [...codes].map((code) => [code, { ...problemSchema, description: PROBLEM_TITLES[code] ?? 'Error' }]),
  );
}

export function titleOf(status: number): string {
  return PROBLEM_TITLES[status] ?? (status >= 500 ? 'Internal error' : 'Error');
}

// `examples` feed OpenAPI and the generic request generator of the role-matrix and fuzz tests.
export const idString = (prefix: string): JsonSchema => ({
  type: 'string',
  examples: [`${prefix}_0000000000000000000000000000`],
  pattern: `^${prefix}_[a-z0-9]{1,64}$`,
  maxLength: 80,
});
export const timestamp: JsonSchema = { type: 'string', format: 'date-time' };
export const nullableTimestamp: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
export const emailSchema: JsonSchema = {
  type: 'string',
  format: 'email',
  minLength: 3,
  maxLength: 254,
  examples: ['someone@example.com'],
};
export const roleSchema: JsonSchema = { title: 'Role', type: 'string', enum: [...ROLES], examples: ['viewer'] };
export const passwordSchema: JsonSchema = {
  type: 'string',
  minLength: 12,
  maxLength: 256,
  examples: ['a long passphrase'],
};
export const reasonSchema: JsonSchema = { type: 'string', minLength: 1, maxLength: 1000 };

/** `{ id }` path parameters. */
export function idParams(prefix: string): JsonSchema {
  return {
    type: 'object',
    required: ['id'],
    properties: { id: idString(prefix) },
    additionalProperties: false,
  };
}

/** Keyset pagination parameters every list route accepts. */
export const pageQueryProperties = {
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  cursor: { type: 'string', minLength: 1, maxLength: 500 },
};

/** A page of `item`: `{ items, next_cursor }`, named `<item's title>Page` when the item is named. */
export function pageOf(item: JsonSchema): JsonSchema {
  return {
    ...(typeof item.title === 'string' ? { title: `${item.title}Page` } : {}),
    type: 'object',
    required: ['items', 'next_cursor'],
    properties: { items: { type: 'array', items: item }, next_cursor: { type: ['string', 'null'] } },
  };
}

export const noContent: JsonSchema = { type: 'null', description: 'No content' };
