// Workflow runs: list, counts, activity per hour, one run in full, bulk restart and its progress.
import { Type } from 'typebox';
import { oneOf } from '../../billing/records/schemas.ts';
import { customerEmails, searchCustomers } from '../../billing/records/index.ts';
import { WORKFLOW_TYPES, workflowCatalogue } from '../../billing/workflows/index.ts';
import {
  RUN_SORTS,
  bulkRestart,
  countRuns,
  countRunsPerHour,
  getOperation,
  getRun,
  listRuns,
} from '../../engine/index.ts';
import type { RunViewer } from '../schemas/run.ts';
import type { RunSummary } from '../../engine/index.ts';
import type { Queryable } from '../../db/types.ts';
import { actorNames, listAudit } from '../audit.ts';
import type { ApiDeps } from '../deps.ts';
import { iso } from '../pagination.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idParams, idString, pageOf, pageQueryProperties, problemResponses, reasonSchema } from '../schemas.ts';
import { actorFrom, checkRunCursor, dateInput } from '../schemas/common.ts';
import {
  operationSchema,
  operationView,
  recordIdSchema,
  runActivitySchema,
  runDetailSchema,
  runListItemSchema,
  runDetailView,
  runStatusSchema,
  runSummaryView,
  runViewer,
  runTypeSchema,
  stepNameSchema,
} from '../schemas/run.ts';

export const WORKFLOW_TAGS = ['Workflows'];
/** Runs a bulk restart's dry run lists. */
const BULK_PREVIEW = 25;

export const workflowTypeSchema = oneOf(WORKFLOW_TYPES, { title: 'WorkflowType' });

const workflowTypeInfoSchema = {
  title: 'WorkflowTypeInfo',
  type: 'object',
  required: ['type', 'label', 'steps', 'when_skipped', 'subject_prefix'],
  properties: {
    type: workflowTypeSchema,
    label: { type: 'string', description: 'What people call it, e.g. "Payment failed".' },
    steps: {
      type: 'array',
      items: { type: 'string' },
      description: 'The predefined steps, in order; custom steps may run between them.',
    },
    when_skipped: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'By step name: what skipping that step after it failed means for the run (shown before a skip). ' +
        'For other steps: the step does not run, and a later step that needs its result fails.',
    },
    subject_prefix: {
      type: 'string',
      description: 'The id prefix of the record POST /workflows starts it for: sub, pay, inv, re or cb.',
    },
  },
};
const dateTime = (examples?: string[]) =>
  Type.String({ format: 'date-time', maxLength: 40, ...(examples === undefined ? {} : { examples }) });

/** Customers a partial email filter may stand for; a run list page shows the runs of all of them. */
const EMAIL_MATCHES = 200;

/** The page's runs with their customers' emails, looked up in one query for the whole page. */
export async function withCustomerEmails(q: Queryable, runs: RunSummary[], viewer: RunViewer) {
  const owners = runs.map((r) => r.owner_ref).filter((ref): ref is string => !!ref?.startsWith('cus_'));
  const emails = await customerEmails(q, owners);
  return runs.map((run) => ({
    ...runSummaryView(run, viewer),
    customer_email: (run.owner_ref && emails.get(run.owner_ref)) ?? null,
  }));
}

export function workflowRoutes(deps: ApiDeps): RouteSpec[] {
  const { db, billing } = deps;
  const catalogue: RouteSpec[] = billing
    ? [
        route({
          method: 'GET',
          url: '/workflow-types',
          operationId: 'listWorkflowTypes',
          access: 'viewer',
          summary: 'The workflow types this server runs, with their labels and steps (menus and filters)',
          tags: WORKFLOW_TAGS,
          response: {
            200: {
              type: 'object',
              required: ['items'],
              properties: { items: { type: 'array', items: workflowTypeInfoSchema } },
            },
            ...problemResponses(),
          },
          async handler() {
            return { status: 200, body: { items: workflowCatalogue(billing.registry) } };
          },
        }),
      ]
    : [];
  return [
    ...catalogue,
    route({
      method: 'GET',
      url: '/workflows',
      operationId: 'listRuns',
      access: 'account_manager',
      summary: 'List workflow runs, newest first',
      description:
        '`failed_step` matches failed runs stopped at that step. `customer_email` picks the runs of the customers ' +
        `whose email starts with it, case ignored (\`carl\` finds carl@…; the first ${EMAIL_MATCHES} such customers ` +
        'by email; none gives an empty page). `sort`: `created_desc` (default), `created_asc`, or by failure time ' +
        '(`failed_desc`, `failed_asc`, with `status=failed`: the failed-runs inbox). Keyset-paged: pass ' +
        '`next_cursor` back as `cursor` with the same `sort`.',
      tags: WORKFLOW_TAGS,
      querystring: Type.Object(
        {
          type: Type.Optional(runTypeSchema),
          status: Type.Optional(runStatusSchema),
          customer_id: Type.Optional(idString('cus')),
          customer_email: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 254,
              description: 'The start of an email address, e.g. `carl` or `carl@example.com`.',
            }),
          ),
          subject_id: Type.Optional(recordIdSchema),
          failed_step: Type.Optional(stepNameSchema),
          created_after: Type.Optional(dateTime()),
          created_before: Type.Optional(dateTime()),
          sort: Type.Optional(Type.Enum([...RUN_SORTS], { type: 'string', default: 'created_desc' })),
          ...pageQueryProperties,
        },
        { additionalProperties: false },
      ),
      response: { 200: pageOf(runListItemSchema), ...problemResponses() },
      async handler({ query, principal }) {
        checkRunCursor(query.cursor);
        let ownerRefs: string[] | undefined;
        if (query.customer_email !== undefined && query.customer_email.trim()) {
          ownerRefs = (await searchCustomers(db, query.customer_email, { limit: EMAIL_MATCHES })).map((c) => c.id);
          // Nobody's email starts so: no run can match.
          if (ownerRefs.length === 0) return { status: 200, body: { items: [], next_cursor: null } };
        }
        const page = await listRuns(
          db,
          {
            type: query.type,
            status: query.status,
            ownerRef: query.customer_id,
            ownerRefs,
            subjectRef: query.subject_id,
            failedStep: query.failed_step,
            createdAfter: dateInput(query.created_after, 'created_after'),
            createdBefore: dateInput(query.created_before, 'created_before'),
          },
          { limit: query.limit ?? 50, cursor: query.cursor, sort: query.sort },
        );
        return {
          status: 200,
          body: {
            items: await withCustomerEmails(db, page.items, runViewer(principal)),
            next_cursor: page.next_cursor,
          },
        };
      },
    }),
    route({
      method: 'GET',
      url: '/workflows/activity',
      operationId: 'getRunActivity',
      access: 'account_manager',
      summary: 'Runs created per hour and status (dashboard charts)',
      description:
        'Counts the runs created in [`from`, `to`) per UTC hour and status, at most 7 days at once; ' +
        '`type` limits it to one workflow type.',
      tags: WORKFLOW_TAGS,
      querystring: Type.Object(
        {
          from: dateTime(['2026-01-05T00:00:00Z']),
          to: dateTime(['2026-01-06T00:00:00Z']),
          type: Type.Optional(runTypeSchema),
        },
        { additionalProperties: false },
      ),
      response: { 200: runActivitySchema, ...problemResponses() },
      async handler({ query }) {
        const from = dateInput(query.from, 'from') as Date;
        const to = dateInput(query.to, 'to') as Date;
        const items = await countRunsPerHour(db, { from, to, type: query.type });
        return {
          status: 200,
          body: {
            from: iso(from),
            to: iso(to),
            items: items.map((i) => ({ hour: iso(i.hour), status: i.status, count: i.count })),
          },
        };
      },
    }),
    route({
      method: 'GET',
      url: '/workflows/counts',
      operationId: 'countRuns',
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
    route({
      method: 'GET',
      url: '/workflows/:id',
      operationId: 'getRun',
      access: 'account_manager',
      summary: 'A run with its pinned steps, attempts, outputs, operator actions and record links',
      tags: WORKFLOW_TAGS,
      params: idParams('run'),
      response: { 200: runDetailSchema, ...problemResponses() },
      async handler({ params, principal }) {
        const run = await getRun(db, params.id);
        const audit = await listAudit(db, { target: run.id, limit: 100 });
        const names = await actorNames(db, [...run.events.map((e) => e.actor), ...audit.items.map((a) => a.actor)]);
        return { status: 200, body: runDetailView(run, audit.items, runViewer(principal), names) };
      },
    }),
    route({
      method: 'POST',
      url: '/workflows/bulk-restart',
      operationId: 'bulkRestartRuns',
      access: 'account_manager',
      summary: 'Restart every failed run matching a filter (a dry run shows what would be restarted)',
      description:
        'A dry run changes nothing and is not audited: it counts the matching failed runs and returns the first ' +
        `${BULK_PREVIEW} of them, newest first, in \`runs\`. A real run snapshots the matching failed runs into an ` +
        'operation (audited); workers restart them in throttled batches, each at most once. Follow it at ' +
        'GET /workflow-operations/{operation_id}.',
      tags: WORKFLOW_TAGS,
      audit: 'workflow.bulk_restart',
      body: Type.Object(
        {
          filter: Type.Object(
            {
              type: Type.Optional(runTypeSchema),
              failed_step: Type.Optional(stepNameSchema),
              created_after: Type.Optional(dateTime()),
              created_before: Type.Optional(dateTime()),
              customer_id: Type.Optional(idString('cus')),
              include_permanent: Type.Optional(
                Type.Boolean({
                  default: false,
                  description:
                    'Also restart runs whose error was permanent (`error.retryable` false: a declined card, ' +
                    'invalid input, a bug), which fail the same way again unless something was fixed. Left out ' +
                    'by default.',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          dry_run: Type.Boolean(),
          reason: reasonSchema,
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: {
          type: 'object',
          required: ['matched', 'permanent_excluded', 'operation_id'],
          properties: {
            matched: { type: 'integer' },
            permanent_excluded: {
              type: 'integer',
              description: 'Failed runs the filter matched but left out: their error was permanent.',
            },
            operation_id: { type: ['string', 'null'], description: 'Null for a dry run.' },
            runs: {
              type: 'array',
              items: runListItemSchema,
              description: `Dry run: the first ${BULK_PREVIEW} matching runs, newest first. Empty for a real run.`,
            },
          },
        },
        ...problemResponses(),
      },
      async handler({ body, principal }) {
        const filter = {
          type: body.filter.type,
          failedStep: body.filter.failed_step,
          createdAfter: dateInput(body.filter.created_after, 'filter.created_after'),
          createdBefore: dateInput(body.filter.created_before, 'filter.created_before'),
          ownerRef: body.filter.customer_id,
          includePermanent: body.filter.include_permanent === true,
        };
        const result = await bulkRestart(db, {
          filter,
          dryRun: body.dry_run,
          name: body.name,
          reason: body.reason,
          actor: actorFrom(principal),
        });
        const operationId = result.operationId ?? null;
        if (body.dry_run) {
          // What the operator is about to restart; a look changes nothing, so it is not audited.
          const page = await listRuns(
            db,
            { ...filter, status: 'failed', permanent: filter.includePermanent ? undefined : false },
            { limit: BULK_PREVIEW },
          );
          return {
            status: 200,
            body: {
              matched: result.matched,
              permanent_excluded: result.permanentExcluded,
              operation_id: null,
              runs: await withCustomerEmails(db, page.items, runViewer(principal)),
            },
            audit: false,
          };
        }
        return {
          status: 200,
          body: {
            matched: result.matched,
            permanent_excluded: result.permanentExcluded,
            operation_id: operationId,
            runs: [],
          },
          audit: {
            target: operationId,
            reason: body.reason,
            details: {
              matched: result.matched,
              permanent_excluded: result.permanentExcluded,
              filter: body.filter,
              name: body.name ?? null,
            },
          },
        };
      },
    }),
    route({
      method: 'GET',
      url: '/workflow-operations/:id',
      operationId: 'getWorkflowOperation',
      access: 'account_manager',
      summary: 'Progress of a bulk operation',
      tags: WORKFLOW_TAGS,
      params: idParams('op'),
      response: { 200: operationSchema, ...problemResponses() },
      async handler({ params, principal }) {
        const op = await getOperation(db, params.id);
        const names = await actorNames(db, [op.actor]);
        return {
          status: 200,
          body: { ...operationView(op, runViewer(principal)), actor_name: names.get(op.actor) ?? op.actor },
        };
      },
    }),
  ];
}
