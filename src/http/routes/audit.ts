import { Type } from 'typebox';
import { actorNames, auditFacets, listAudit, resolveActor } from '../audit.ts';
import type { ApiDeps } from '../deps.ts';
import { pageLimit, parseTimestamp } from '../pagination.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { pageOf, pageQuery, problemResponses, timestamp } from '../schemas.ts';

export const auditEntrySchema = {
  title: 'AuditEntry',
  type: 'object',
  required: ['id', 'at', 'actor', 'actor_name', 'action', 'target', 'reason', 'source_ip', 'details'],
  properties: {
    id: { type: 'string' },
    at: timestamp,
    actor: { type: 'string', description: '`user:<id>`, `api_key:<id>`, `cli` or `anonymous`' },
    actor_name: {
      type: 'string',
      description: "Who, as people know them: a user's email, an API key's name, `command line`.",
    },
    action: { type: 'string' },
    target: { type: ['string', 'null'] },
    reason: { type: ['string', 'null'] },
    source_ip: { type: ['string', 'null'] },
    details: { type: 'object', additionalProperties: true },
  },
};

const filterString = (description?: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: 200, ...(description === undefined ? {} : { description }) }));

export function auditRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    route({
      method: 'GET',
      url: '/audit',
      operationId: 'listAuditEntries',
      access: 'admin',
      summary: 'The audit log, newest first',
      description:
        'Filters combine; `from` is inclusive, `to` exclusive. `actor` takes a raw actor (`user:<id>`, ' +
        "`api_key:<id>`, `cli:<os user>`), a user's email or an API key's name.",
      tags: ['Audit'],
      querystring: pageQuery({
        actor: filterString("A raw actor, a user's email or an API key's name."),
        action: filterString(),
        target: filterString(),
        from: Type.Optional(timestamp),
        to: Type.Optional(timestamp),
      }),
      response: { 200: pageOf(auditEntrySchema), ...problemResponses() },
      async handler(ctx) {
        const q = ctx.query;
        const page = await listAudit(deps.db, {
          actors: q.actor === undefined ? undefined : await resolveActor(deps.db, q.actor),
          action: q.action,
          target: q.target,
          from: q.from === undefined ? undefined : parseTimestamp(q.from, 'from'),
          to: q.to === undefined ? undefined : parseTimestamp(q.to, 'to'),
          limit: pageLimit(q),
          cursor: q.cursor,
        });
        const names = await actorNames(
          deps.db,
          page.items.map((a) => a.actor),
        );
        return {
          status: 200,
          body: { ...page, items: page.items.map((a) => ({ ...a, actor_name: names.get(a.actor) ?? a.actor })) },
        };
      },
    }),
    route({
      method: 'GET',
      url: '/audit/facets',
      operationId: 'getAuditFacets',
      access: 'admin',
      summary: "The audit log's actions and actors, for filters",
      description: 'Each action with its entry count; the 200 most active actors with their names.',
      tags: ['Audit'],
      response: {
        200: {
          title: 'AuditFacets',
          type: 'object',
          required: ['actions', 'actors'],
          properties: {
            actions: {
              type: 'array',
              items: {
                type: 'object',
                required: ['action', 'count'],
                properties: { action: { type: 'string' }, count: { type: 'integer' } },
              },
            },
            actors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['actor', 'actor_name', 'count'],
                properties: { actor: { type: 'string' }, actor_name: { type: 'string' }, count: { type: 'integer' } },
              },
            },
          },
        },
        ...problemResponses(),
      },
      async handler() {
        return { status: 200, body: await auditFacets(deps.db) };
      },
    }),
  ];
}
