import { Type } from 'typebox';
import type { Static, TProperties, TSchema, TUnsafe } from 'typebox';
import { idOf, oneOf } from '../billing/records/schemas.ts';
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

// The request pieces are TypeBox schemas: each is the JSON Schema of a route and, through
// `Static`, the type its handler gets. `examples` feed OpenAPI and the generic request generator
// of the role-matrix and fuzz tests.
export const idString = idOf;
export const timestamp = Type.String({ format: 'date-time' });
/**
 * `schema` or null, as one JSON type list (`type: ['string', 'null']`) rather than TypeBox's
 * anyOf, so a wrong value gets one error naming both types, as the API has always answered.
 */
export function nullable<S extends TSchema>(schema: S): TUnsafe<Static<S> | null> {
  const { type } = schema as { type?: unknown };
  if (typeof type !== 'string') throw new Error('nullable() takes a schema of one JSON type');
  return Type.Unsafe<Static<S> | null>({ ...(schema as Record<string, unknown>), type: [type, 'null'] });
}
export const nullableTimestamp = nullable(timestamp);
export const emailSchema = Type.String({
  format: 'email',
  minLength: 3,
  maxLength: 254,
  examples: ['someone@example.com'],
});
export const roleSchema = oneOf(ROLES, { title: 'Role', examples: ['viewer'] });
export const passwordSchema = Type.String({ minLength: 12, maxLength: 256, examples: ['a long passphrase'] });
export const reasonSchema = Type.String({ minLength: 1, maxLength: 1000 });
/** A body of just the operator's reason (cancel, skip, …). */
export const ReasonBody = Type.Object({ reason: reasonSchema }, { additionalProperties: false });

/** `{ id }` path parameters. */
export function idParams(prefix: string) {
  return Type.Object({ id: idOf(prefix) }, { additionalProperties: false });
}

/** Keyset pagination parameters every list route accepts. */
export const pageQueryProperties = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
};

/** A query string of `properties` besides the page's, no other field allowed. */
export function pageQuery<P extends TProperties>(properties: P) {
  return Type.Object({ ...pageQueryProperties, ...properties }, { additionalProperties: false });
}

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
