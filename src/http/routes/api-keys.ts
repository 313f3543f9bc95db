import { Type } from 'typebox';
import { InvalidInputError, PermissionError } from '../../errors.ts';
import { API_KEY_COLUMNS, apiKeyView, createApiKey, getApiKey, revokeApiKey } from '../auth/api-keys.ts';
import type { ApiKeyRow } from '../auth/api-keys.ts';
import { actorOf } from '../auth/principal.ts';
import { roleAtLeast } from '../auth/roles.ts';
import type { ApiDeps } from '../deps.ts';
import { decodeCursor, pageLimit, parseTimestamp, toPage } from '../pagination.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import {
  idParams,
  idString,
  nullableTimestamp,
  pageOf,
  pageQuery,
  problemResponses,
  reasonSchema,
  roleSchema,
  timestamp,
} from '../schemas.ts';

const TAGS = ['API keys'];

export const apiKeySchema = {
  title: 'ApiKey',
  type: 'object',
  required: ['id', 'name', 'prefix', 'role', 'created_at', 'expires_at', 'revoked_at', 'last_used_at'],
  properties: {
    id: idString('key'),
    name: { type: 'string' },
    prefix: { type: 'string', description: 'The visible start of the key, to tell keys apart' },
    role: roleSchema,
    created_by: { type: ['string', 'null'] },
    created_at: timestamp,
    expires_at: nullableTimestamp,
    revoked_at: nullableTimestamp,
    last_used_at: nullableTimestamp,
  },
};

export function apiKeyRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    route({
      method: 'GET',
      url: '/api-keys',
      operationId: 'listApiKeys',
      access: 'developer',
      summary: 'List API keys (never the keys themselves)',
      tags: TAGS,
      querystring: pageQuery({ include_revoked: Type.Optional(Type.Boolean({ default: false })) }),
      response: { 200: pageOf(apiKeySchema), ...problemResponses() },
      async handler(ctx) {
        const limit = pageLimit(ctx.query);
        const after = decodeCursor(ctx.query.cursor, ['string']);
        const { rows } = await deps.db.query<ApiKeyRow>(
          `SELECT ${API_KEY_COLUMNS} FROM api_keys
            WHERE ($1::text IS NULL OR id < $1) AND ($2::boolean OR revoked_at IS NULL)
            ORDER BY id DESC LIMIT $3`,
          [after?.[0] ?? null, ctx.query.include_revoked ?? false, limit + 1],
        );
        return { status: 200, body: toPage(rows, limit, (r) => [r.id], apiKeyView) };
      },
    }),
    route({
      method: 'POST',
      url: '/api-keys',
      operationId: 'createApiKey',
      access: 'developer',
      summary: 'Create an API key (shown once)',
      description:
        'The answer is the only time the key exists in clear: Billflow stores a hash. A key cannot carry a ' +
        "role above its creator's. An idempotent replay returns the same key record with `key: null`.",
      tags: TAGS,
      body: Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 100 }),
          role: roleSchema,
          expires_at: Type.Optional(timestamp),
          reason: Type.Optional(reasonSchema),
        },
        { additionalProperties: false },
      ),
      response: {
        201: {
          type: 'object',
          required: ['api_key', 'key'],
          properties: { api_key: apiKeySchema, key: { type: ['string', 'null'] } },
        },
        ...problemResponses(),
      },
      audit: 'api_key.create',
      creates: true,
      secretFields: ['key'],
      async handler(ctx) {
        const principal = ctx.principal;
        if (!principal) throw new PermissionError('API keys are created by a signed-in user or another key');
        if (!roleAtLeast(principal.role, ctx.body.role)) {
          throw new PermissionError(`a key cannot carry a role above yours (${principal.role})`);
        }
        const now = deps.clock();
        const expiresAt = ctx.body.expires_at === undefined ? null : parseTimestamp(ctx.body.expires_at, 'expires_at');
        if (expiresAt !== null && !(expiresAt.getTime() > now.getTime())) {
          throw new InvalidInputError([{ field: 'expires_at', message: 'must be in the future' }]);
        }
        return ctx.transaction(async (tx) => {
          const { key, row } = await createApiKey(tx, {
            name: ctx.body.name,
            role: ctx.body.role,
            expiresAt,
            createdBy: actorOf(principal),
            now,
          });
          await ctx.audit(tx, { target: `api_key:${row.id}`, details: { name: row.name, role: row.role } });
          return { status: 201, body: { api_key: apiKeyView(row), key } };
        });
      },
    }),
    route({
      method: 'DELETE',
      url: '/api-keys/:id',
      operationId: 'revokeApiKey',
      access: 'developer',
      summary: 'Revoke an API key',
      tags: TAGS,
      params: idParams('key'),
      response: { 200: apiKeySchema, ...problemResponses() },
      audit: 'api_key.revoke',
      async handler(ctx) {
        const principal = ctx.principal;
        const existing = await getApiKey(deps.db, ctx.params.id);
        if (!principal || !roleAtLeast(principal.role, existing.role)) {
          throw new PermissionError('a key with a role above yours can only be revoked by someone holding that role');
        }
        return deps.db.transaction(async (tx) => {
          const row = await revokeApiKey(tx, ctx.params.id, deps.clock());
          await ctx.audit(tx, { target: `api_key:${row.id}` });
          return { status: 200, body: apiKeyView(row) };
        });
      },
    }),
  ];
}
