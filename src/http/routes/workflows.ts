// Workflow runs: list, counts, one run in full, bulk restart and its progress.
import { bulkRestart, countRuns, getOperation, getRun, listRuns } from '../../engine/index.ts';
import type { RunStatus } from '../../engine/index.ts';
import { listAudit } from '../audit.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idParams, idString, pageOf, pageQueryProperties, problemResponses, reasonSchema } from '../schemas.ts';
import { actorFrom, checkRunCursor, dateInput } from '../schemas/common.ts';
import {
  operationSchema,
  operationView,
  recordIdSchema,
  runDetailSchema,
  runDetailView,
  runStatusSchema,
  runSummarySchema,
  runSummaryView,
  runTypeSchema,
  stepNameSchema,
} from '../schemas/run.ts';

export const WORKFLOW_TAGS = ['Workflows'];
const dateTime = { type: 'string', format: 'date-time', maxLength: 40 };

interface ListQuery {
  type?: string;
  status?: RunStatus;
  customer_id?: string;
  subject_id?: string;
  failed_step?: string;
  created_after?: string;
  created_before?: string;
  limit?: number;
  cursor?: string;
}

interface BulkBody {
  filter: {
    type?: string;
    failed_step?: string;
    created_after?: string;
    created_before?: string;
    customer_id?: string;
  };
  dry_run: boolean;
  reason: string;
  name?: string;
}

export function workflowRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route<unknown, ListQuery>({
      method: 'GET',
      url: '/workflows',
      access: 'account_manager',
      summary: 'List workflow runs, newest first',
      description:
        '`failed_step` matches failed runs stopped at that step. Keyset-paged: pass `next_cursor` back as `cursor`.',
      tags: WORKFLOW_TAGS,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          type: runTypeSchema,
          status: runStatusSchema,
          customer_id: idString('cus'),
          subject_id: recordIdSchema,
          failed_step: stepNameSchema,
          created_after: dateTime,
          created_before: dateTime,
          ...pageQueryProperties,
        },
      },
      response: { 200: pageOf(runSummarySchema), ...problemResponses() },
      async handler({ query }) {
        checkRunCursor(query.cursor);
        const page = await listRuns(
          db,
          {
            type: query.type,
            status: query.status,
            ownerRef: query.customer_id,
            subjectRef: query.subject_id,
            failedStep: query.failed_step,
            createdAfter: dateInput(query.created_after, 'created_after'),
            createdBefore: dateInput(query.created_before, 'created_before'),
          },
          { limit: query.limit ?? 50, cursor: query.cursor },
        );
        return { status: 200, body: { items: page.items.map(runSummaryView), next_cursor: page.next_cursor } };
      },
    }),
    route({
      method: 'GET',
      url: '/workflows/counts',
      access: 'account_manager',
      summary: 'Runs per type and status (menus and badges)',
      tags: WORKFLOW_TAGS,
      response: {
        200: {
          type: 'object',
          required: ['items'],
          properties: {
            items: {
              type: 'array',
              items: {
                type: 'object',
                required: ['type', 'status', 'count'],
                properties: { type: { type: 'string' }, status: runStatusSchema, count: { type: 'integer' } },
              },
            },
          },
        },
        ...problemResponses(),
      },
      async handler() {
        return { status: 200, body: { items: await countRuns(db) } };
      },
    }),
    route<{ id: string }>({
      method: 'GET',
      url: '/workflows/:id',
      access: 'account_manager',
      summary: 'A run with its pinned steps, attempts, outputs, operator actions and record links',
      tags: WORKFLOW_TAGS,
      params: idParams('run'),
      response: { 200: runDetailSchema, ...problemResponses() },
      async handler({ params }) {
        const run = await getRun(db, params.id);
        const audit = await listAudit(db, { target: run.id, limit: 100 });
        return { status: 200, body: runDetailView(run, audit.items) };
      },
    }),
    route<unknown, unknown, BulkBody>({
      method: 'POST',
      url: '/workflows/bulk-restart',
      access: 'account_manager',
      summary: 'Restart every failed run matching a filter (dry run counts only)',
      description:
        'A real run snapshots the matching failed runs into an operation; workers restart them in throttled ' +
        'batches, each at most once. Follow it at GET /workflows/operations/{operation_id}.',
      tags: WORKFLOW_TAGS,
      audit: 'workflow.bulk_restart',
      body: {
        type: 'object',
        required: ['filter', 'dry_run', 'reason'],
        additionalProperties: false,
        properties: {
          filter: {
            type: 'object',
            additionalProperties: false,
            properties: {
              type: runTypeSchema,
              failed_step: stepNameSchema,
              created_after: dateTime,
              created_before: dateTime,
              customer_id: idString('cus'),
            },
          },
          dry_run: { type: 'boolean' },
          reason: reasonSchema,
          name: { type: 'string', minLength: 1, maxLength: 200 },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['matched', 'operation_id'],
          properties: {
            matched: { type: 'integer' },
            operation_id: { type: ['string', 'null'], description: 'Null for a dry run.' },
          },
        },
        ...problemResponses(),
      },
      async handler({ body, principal }) {
        const result = await bulkRestart(db, {
          filter: {
            type: body.filter.type,
            failedStep: body.filter.failed_step,
            createdAfter: dateInput(body.filter.created_after, 'filter.created_after'),
            createdBefore: dateInput(body.filter.created_before, 'filter.created_before'),
            ownerRef: body.filter.customer_id,
          },
          dryRun: body.dry_run,
          name: body.name,
          reason: body.reason,
          actor: actorFrom(principal),
        });
        const operationId = result.operationId ?? null;
        return {
          status: 200,
          body: { matched: result.matched, operation_id: operationId },
          audit: {
            target: operationId,
            reason: body.reason,
            details: { dry_run: body.dry_run, matched: result.matched, filter: body.filter, name: body.name ?? null },
          },
        };
      },
    }),
    route<{ id: string }>({
      method: 'GET',
      url: '/workflows/operations/:id',
      access: 'account_manager',
      summary: 'Progress of a bulk operation',
      tags: WORKFLOW_TAGS,
      params: idParams('op'),
      response: { 200: operationSchema, ...problemResponses() },
      async handler({ params }) {
        return { status: 200, body: operationView(await getOperation(db, params.id)) };
      },
    }),
  ];
}
