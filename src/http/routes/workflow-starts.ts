// The routes that start a run of a workflow type (POST /refunds, /subscriptions/{id}/cancel, …):
// each type's folder declares its route (path, schema of the body, answer, audit entry); this
// mounts them all from the registry, so a new type's route needs nothing here.
import { WORKFLOWS } from '../../billing/workflows/index.ts';
import type { StartRoute } from '../../billing/workflows/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { JsonSchema, RouteSpec } from '../route.ts';
import { idParams, problemResponses } from '../schemas.ts';
import { actorFrom, operationKey } from '../schemas/common.ts';
import { recordView, startedSchema } from '../schemas/billing.ts';
import { BILLING_TAGS } from './customers.ts';

const runStarted: JsonSchema = {
  type: 'object',
  required: ['workflow_run_id'],
  properties: { workflow_run_id: { type: 'string' } },
};

function startRouteSpec(deps: ApiDeps, spec: StartRoute): RouteSpec {
  const billing = deps.billing;
  if (!billing) throw new Error('start routes need the billing workflows');
  const { answer, audit } = spec;
  return route({
    method: 'POST',
    url: spec.path.replace(/\{(\w+)\}/g, ':$1'),
    operationId: spec.operationId,
    access: spec.access,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    tags: BILLING_TAGS,
    ...(audit ? { audit: audit.action } : {}),
    creates: true,
    // A path without `{id}` has no params: the handler's `params.id` is then undefined.
    ...(spec.idPrefix === undefined ? {} : { params: idParams(spec.idPrefix) }),
    // The body's TypeBox schema is plain JSON Schema: Fastify validates it without converting types.
    body: spec.body,
    response: {
      [spec.status]: answer ? startedSchema(answer.name, answer.schema) : runStarted,
      ...problemResponses(409),
    },
    async handler({ params, body, principal, request }) {
      const started = await spec.start(
        deps.db,
        billing.registry,
        { body, ...(params.id === undefined ? {} : { id: params.id }) },
        {
          idempotencyKey: operationKey(actorFrom(principal), request.headers['idempotency-key']),
          now: deps.clock(),
          // Fastify checked the body against `spec.body`: the run's start does not check it again.
          inputChecked: true,
        },
      );
      return {
        status: spec.status,
        body: answer
          ? { [answer.name]: recordView(started.record), workflow_run_id: started.runId }
          : { workflow_run_id: started.runId },
        ...(audit
          ? { audit: audit.entry({ body, ...(params.id === undefined ? {} : { id: params.id }) }, started) }
          : {}),
      };
    },
  });
}

/** The start route of every registered type, once each (payment_success and payment_failure share one). */
export function workflowStartRoutes(deps: ApiDeps): RouteSpec[] {
  if (!deps.billing) return [];
  const seen = new Set<string>();
  return WORKFLOWS.flatMap((module) => {
    if (seen.has(module.route.operationId)) return [];
    seen.add(module.route.operationId);
    return [startRouteSpec(deps, module.route)];
  });
}
