// Operator actions on runs (restart, cancel, skip a failed step, run now) and the manual trigger.
import { Type } from 'typebox';
import { cancelRun, restartRun, runNow, skipFailedStep } from '../../engine/index.ts';
import type { ActionResult, OperatorAction, Registry } from '../../engine/index.ts';
import type { Queryable } from '../../db/types.ts';
import { ConflictError } from '../../errors.ts';
import { triggerWorkflow } from '../../billing/workflows/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { ReasonBody, idParams, problemResponses, reasonSchema } from '../schemas.ts';
import { actorFrom, operationKey } from '../schemas/common.ts';
import { actionResultSchema, recordIdSchema, runStatusSchema } from '../schemas/run.ts';
import { WORKFLOW_TAGS, workflowTypeSchema } from './workflows.ts';

/** `workflows` lets a cancel tell the run's workflow (see cancelRun). */
type Act = (q: Queryable, action: OperatorAction, workflows?: Registry) => Promise<ActionResult>;

const ACTIONS: { path: string; operationId: string; act: Act; audit: string; summary: string; description: string }[] =
  [
    {
      path: 'restart',
      operationId: 'restartRun',
      act: restartRun,
      audit: 'workflow.restart',
      summary: 'Restart a failed run from its failed step',
      description: 'Completed steps never run again. 409 with `current_status` unless the run is failed.',
    },
    {
      path: 'cancel',
      operationId: 'cancelRun',
      act: cancelRun,
      audit: 'workflow.cancel',
      summary: 'Cancel an unfinished run',
      description: 'Allowed while pending, in progress or failed; 409 with `current_status` otherwise.',
    },
    {
      path: 'skip-step',
      operationId: 'skipFailedStep',
      act: skipFailedStep,
      audit: 'workflow.skip_step',
      summary: 'Skip the failed step and go on after it',
      description: 'The step is marked skipped with the reason. 409 with `current_status` unless the run is failed.',
    },
    {
      path: 'run-now',
      operationId: 'runNow',
      act: runNow,
      audit: 'workflow.run_now',
      summary: 'Run a pending or waiting run now',
      description: 'Makes a pending run, or one waiting for a retry or a timer, due at once.',
    },
  ];

const problem409 = problemResponses(409)[409] as { properties: Record<string, unknown> };
const conflictResponse = {
  409: {
    ...problem409,
    title: 'RunConflict',
    properties: { ...problem409.properties, current_status: runStatusSchema },
  },
};

/** The engine names the run's status `status`; resources.ts passes it on as `current_status`. */
function asConflict(error: unknown, runId: string): unknown {
  return error instanceof ConflictError ? new ConflictError(error.message, { ...error.details, run_id: runId }) : error;
}

export function workflowActionRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  const routes: RouteSpec[] = ACTIONS.map((a) =>
    route({
      method: 'POST',
      url: `/workflows/:id/${a.path}`,
      operationId: a.operationId,
      access: 'account_manager',
      summary: a.summary,
      description: a.description,
      tags: WORKFLOW_TAGS,
      audit: a.audit,
      params: idParams('run'),
      body: ReasonBody,
      response: { 200: actionResultSchema, ...problemResponses(409), ...conflictResponse },
      async handler(ctx) {
        const actor = actorFrom(ctx.principal);
        try {
          // The action and its audit entry commit together or not at all.
          const result = await db.transaction(async (tx) => {
            const done = await a.act(
              tx,
              { runId: ctx.params.id, actor, reason: ctx.body.reason, now: deps.clock() },
              deps.billing?.registry,
            );
            await ctx.audit(tx, {
              target: done.runId,
              reason: ctx.body.reason.trim(),
              details: { previous_status: done.previousStatus, status: done.status, ...done.detail },
            });
            return done;
          });
          deps.observability?.metrics?.onRunAction(result);
          return {
            status: 200,
            body: {
              run_id: result.runId,
              action: result.action,
              previous_status: result.previousStatus,
              status: result.status,
              detail: result.detail,
            },
          };
        } catch (error) {
          throw asConflict(error, ctx.params.id);
        }
      },
    }),
  );
  const billing = deps.billing;
  if (billing) {
    routes.push(
      route({
        method: 'POST',
        url: '/workflows',
        operationId: 'triggerWorkflow',
        access: 'account_manager',
        summary: 'Start a workflow by hand for an existing record',
        description:
          'subscription_* take a sub_ id, payment_* a pay_ id, invoice_creation an inv_ id, refund_creation a ' +
          're_ id, chargeback_creation a cb_ id. The run works on that record instead of creating another.',
        tags: WORKFLOW_TAGS,
        audit: 'workflow.trigger',
        creates: true,
        body: Type.Object(
          { type: workflowTypeSchema, subject_id: recordIdSchema, reason: reasonSchema },
          { additionalProperties: false },
        ),
        response: {
          201: {
            type: 'object',
            required: ['workflow_run_id', 'type', 'status'],
            properties: {
              workflow_run_id: { type: 'string' },
              type: { type: 'string' },
              status: runStatusSchema,
              created: { type: 'boolean', description: 'False when the Idempotency-Key named an earlier run.' },
            },
          },
          ...problemResponses(409),
        },
        async handler(ctx) {
          const actor = actorFrom(ctx.principal);
          const result = await triggerWorkflow(db, billing.registry, {
            type: ctx.body.type,
            subjectId: ctx.body.subject_id,
            reason: ctx.body.reason,
            actor,
            idempotencyKey: operationKey(actor, ctx.request.headers['idempotency-key']),
            now: deps.clock(),
          });
          return {
            status: 201,
            body: { workflow_run_id: result.runId, type: result.type, status: result.status, created: result.created },
            audit: {
              target: result.runId,
              reason: ctx.body.reason,
              details: { type: result.type, subject_id: ctx.body.subject_id },
            },
          };
        },
      }),
    );
  }
  return routes;
}
