// One search box for operators: a run by its id, the runs of a record or a customer by id, or the
// customers (and their runs) whose email or name starts with what was typed.
import { Type } from 'typebox';
import { searchCustomers } from '../../billing/records/index.ts';
import type { CustomerMatch } from '../../billing/records/index.ts';
import { countMatchingRuns, listRuns } from '../../engine/index.ts';
import type { RunFilter } from '../../engine/index.ts';
import { InvalidInputError } from '../../errors.ts';
import { roleAtLeast } from '../auth/roles.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { problemResponses } from '../schemas.ts';
import { recordLinks, runListItemSchema, runViewer } from '../schemas/run.ts';
import { withCustomerEmails } from './workflows.ts';

const RECORD_ID = /^(sub|pay|inv|re|cb)_[a-z0-9]{1,64}$/;
/** Customers a text search lists (their runs are listed too, newest first). */
const CUSTOMER_MATCHES = 10;
/** Matching runs are counted up to this many; beyond it the answer says "more than". */
const RUN_COUNT_CAP = 1000;
const SEARCH_SORTS = ['created_desc', 'created_asc'] as const;

type Match = 'run' | 'record' | 'customer' | 'text';

const customerMatchSchema = {
  title: 'CustomerMatch',
  type: 'object',
  required: ['id', 'email', 'name', 'status'],
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: ['string', 'null'] },
    status: { type: 'string' },
  },
};

export function searchRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      url: '/search',
      operationId: 'search',
      access: 'viewer',
      summary: 'Find runs and customers from one search box',
      description:
        '`q` is a run id (`run_…`), a record id (`sub_…`, `pay_…`, `inv_…`, `re_…`, `cb_…`: the runs about it), a ' +
        'customer id (`cus_…`: the customer and their runs), or the start of an email address or a name, case ' +
        `ignored (the first ${CUSTOMER_MATCHES} such customers by email, and their runs). Runs are listed for ` +
        'account_manager and above only (`runs_visible`), a page at a time (`limit`, then `cursor` = ' +
        `\`runs_next_cursor\`), newest or oldest first (\`sort\`), with their count up to ${RUN_COUNT_CAP} ` +
        '(`runs_total`; `runs_total_capped` when there are more).',
      tags: ['Workflows'],
      querystring: Type.Object(
        {
          q: Type.String({ minLength: 1, maxLength: 254, examples: ['carl', 'run_0198c2f0a1b2c3d4e5f6a7b8c9d0'] }),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Runs per page.' })),
          cursor: Type.Optional(
            Type.String({ minLength: 1, maxLength: 500, description: '`runs_next_cursor` of the page before.' }),
          ),
          sort: Type.Optional(Type.Enum([...SEARCH_SORTS], { type: 'string', default: 'created_desc' })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: {
          title: 'SearchResult',
          type: 'object',
          required: [
            'query',
            'match',
            'runs',
            'runs_visible',
            'runs_next_cursor',
            'runs_total',
            'runs_total_capped',
            'customers',
            'record',
          ],
          properties: {
            query: { type: 'string', description: 'What was searched for, trimmed.' },
            match: {
              type: 'string',
              enum: ['run', 'record', 'customer', 'text'],
              description: 'How `q` was read: a run id, a record id, a customer id, or text.',
            },
            runs: { type: 'array', items: runListItemSchema },
            runs_visible: { type: 'boolean', description: 'False when the caller may not see runs.' },
            runs_next_cursor: { type: ['string', 'null'], description: 'The next page of runs; null on the last.' },
            runs_total: { type: 'integer', description: `Matching runs, counted up to ${RUN_COUNT_CAP}.` },
            runs_total_capped: { type: 'boolean', description: `True when more than ${RUN_COUNT_CAP} runs match.` },
            customers: { type: 'array', items: customerMatchSchema },
            record: {
              type: ['object', 'null'],
              required: ['kind', 'id', 'path'],
              properties: {
                kind: { type: 'string' },
                id: { type: 'string' },
                path: { type: 'string', description: 'The API path of the record.' },
              },
            },
          },
        },
        ...problemResponses(),
      },
      async handler({ query, principal }) {
        const text = query.q.trim();
        if (!text) throw new InvalidInputError([{ field: 'q', message: 'must not be blank' }]);
        const id = text.toLowerCase();
        const runsVisible = principal !== null && roleAtLeast(principal.role, 'account_manager');
        let match: Match = 'text';
        let filter: RunFilter | null = null;
        let customers: CustomerMatch[] = [];
        let record: { kind: string; id: string; path: string } | null = null;
        if (/^run_[a-z0-9]{1,64}$/.test(id)) {
          match = 'run';
          filter = { id };
        } else if (RECORD_ID.test(id)) {
          match = 'record';
          const [kind, path] = Object.entries(recordLinks([id]))[0] ?? [];
          if (kind && path) record = { kind, id, path };
          filter = { subjectRef: id };
        } else if (/^cus_[a-z0-9]{1,64}$/.test(id)) {
          match = 'customer';
          const { rows } = await db.query<CustomerMatch>(
            'SELECT id, email, name, status FROM customers WHERE id = $1',
            [id],
          );
          customers = rows;
          filter = { ownerRef: id };
        } else {
          customers = await searchCustomers(db, text, { limit: CUSTOMER_MATCHES, names: true });
          if (customers.length > 0) filter = { ownerRefs: customers.map((c) => c.id) };
        }
        const page =
          runsVisible && filter
            ? await listRuns(db, filter, {
                limit: query.limit ?? 20,
                cursor: query.cursor,
                sort: query.sort ?? 'created_desc',
              })
            : { items: [], next_cursor: null };
        const total =
          runsVisible && filter ? await countMatchingRuns(db, filter, RUN_COUNT_CAP) : { count: 0, capped: false };
        const runs = page.items;
        return {
          status: 200,
          body: {
            query: text,
            match,
            runs: await withCustomerEmails(db, runs, runViewer(principal)),
            runs_visible: runsVisible,
            runs_next_cursor: page.next_cursor,
            runs_total: total.count,
            runs_total_capped: total.capped,
            customers,
            record,
          },
        };
      },
    }),
  ];
}
