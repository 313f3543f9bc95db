// "Did we lose anything?": the reconciliation report, checked when asked, and the last daily one.
import { RECONCILIATION_CHECKS, lastDailyReconciliation, reconcile } from '../../billing/reconciliation/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { problemResponses } from '../schemas.ts';

const TAGS = ['Reconciliation'];
const nullableString = { type: ['string', 'null'] };

const objectSchema = {
  title: 'ReconciliationObject',
  type: 'object',
  required: ['kind', 'id', 'url', 'api_url'],
  properties: {
    kind: {
      type: 'string',
      description: 'subscription, invoice, payment, refund, chargeback, customer, run, stripe_event, stat',
    },
    id: { type: 'string' },
    url: {
      ...nullableString,
      description: 'An admin UI page (a path), or an outside page such as the Stripe dashboard.',
    },
    api_url: { ...nullableString, description: 'The REST resource, when there is one.' },
  },
};

const checkSchema = {
  title: 'ReconciliationCheck',
  type: 'object',
  required: ['name', 'title', 'ok', 'finding_count', 'findings', 'note'],
  properties: {
    name: { type: 'string', enum: [...RECONCILIATION_CHECKS] },
    title: { type: 'string' },
    ok: { type: 'boolean' },
    finding_count: { type: 'integer', description: 'All findings; `findings` lists the first 100.' },
    findings: {
      type: 'array',
      items: {
        title: 'ReconciliationFinding',
        type: 'object',
        required: ['message', 'objects'],
        properties: { message: { type: 'string' }, objects: { type: 'array', items: objectSchema } },
      },
    },
    note: { ...nullableString, description: 'What the check could not look at, e.g. an unreachable provider.' },
  },
};

export const reconciliationReportSchema = {
  title: 'ReconciliationReport',
  type: 'object',
  required: ['checked_at', 'ok', 'finding_count', 'checks'],
  properties: {
    checked_at: { type: 'string', format: 'date-time' },
    ok: { type: 'boolean', description: 'True when every check passed: nothing lost, nothing counted twice.' },
    finding_count: { type: 'integer' },
    checks: { type: 'array', items: checkSchema },
  },
};

export function reconciliationRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      url: '/reconciliation',
      operationId: 'getReconciliation',
      access: 'account_manager',
      summary: 'Check now that nothing was lost (records, Stripe events, statistics, leases, the provider)',
      description:
        'Runs every check and answers with what it found: billing records without their run; Stripe events ' +
        'neither handled, parked nor ignored with a reason; statistics that differ from a recount; runs in ' +
        'progress past their lease; subscriptions cancelled in Billflow but live at the provider, or live in ' +
        'Billflow but missing or ended there. Each finding lists its objects with links. Reads only; the provider ' +
        'is asked about each subscription, so it can take a while on a large account. `last_daily` is the report ' +
        "of the workers' daily run.",
      tags: TAGS,
      response: {
        200: {
          type: 'object',
          required: ['report', 'last_daily'],
          properties: {
            report: reconciliationReportSchema,
            last_daily: { anyOf: [reconciliationReportSchema, { type: 'null' }] },
          },
        },
        ...problemResponses(),
      },
      async handler() {
        const report = await reconcile(db, { provider: deps.billing?.provider, now: deps.clock() });
        return { status: 200, body: { report, last_daily: await lastDailyReconciliation(db) } };
      },
    }),
  ];
}
