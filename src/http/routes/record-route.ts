// GET /<records>/:id for the billing records: viewer and above, the record as JSON, 404 if unknown.
import type { Queryable } from '../../db/types.ts';
import { route } from '../route.ts';
import type { JsonSchema, RouteSpec } from '../route.ts';
import { idParams, problemResponses } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { BILLING_TAGS } from './customers.ts';

export function recordRoute(
  db: Queryable,
  record: {
    /** e.g. `/payments` */
    collection: string;
    operationId: string;
    /** The id prefix, e.g. `pay`. */
    prefix: string;
    summary: string;
    schema: JsonSchema;
    get(q: Queryable, id: string): Promise<object>;
  },
): RouteSpec {
  return route({
    method: 'GET',
    url: `${record.collection}/:id`,
    operationId: record.operationId,
    access: 'viewer',
    summary: record.summary,
    tags: BILLING_TAGS,
    params: idParams(record.prefix),
    response: { 200: record.schema, ...problemResponses() },
    async handler({ params }) {
      return { status: 200, body: recordView(await record.get(db, params.id)) };
    },
  });
}
