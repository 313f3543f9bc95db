// Custom webhook steps of a workflow type: list (with the type's full step sequence), insert,
// enable/disable/move and delete, each audited with its reason. Runs pin their steps at start, so
// a change here reaches new runs only (docs/custom-steps.md).
import { Type } from 'typebox';
import {
  CUSTOM_STEP_METHODS,
  MAX_CUSTOM_TIMEOUT_MS,
  MIN_CUSTOM_TIMEOUT_MS,
  createCustomStep,
  customStepView,
  deleteCustomStep,
  listCustomSteps,
  predefinedSteps,
  updateCustomStep,
} from '../../billing/workflows/index.ts';
import type { Registry } from '../../engine/index.ts';
import { NO_EXCEPTIONS } from '../../notify/index.ts';
import { actorOf } from '../auth/principal.ts';
import type { Principal } from '../auth/principal.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { ReasonBody, problemResponses, reasonSchema, timestamp } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { WORKFLOW_TAGS, workflowTypeSchema } from './workflows.ts';

const stepNameInput = Type.String({ pattern: '^[a-z][a-z0-9_]{0,59}$', examples: ['crm_sync'] });
const predefinedStepInput = Type.String({
  minLength: 1,
  maxLength: 100,
  description: 'The predefined step it follows',
  examples: ['record_payment'],
});

const retrySchema = {
  title: 'CustomStepRetry',
  type: 'object',
  required: ['max_attempts', 'initial_delay_ms', 'max_delay_ms'],
  properties: {
    max_attempts: { type: 'integer', description: 'Attempts in all, the first included' },
    initial_delay_ms: { type: 'integer' },
    max_delay_ms: { type: 'integer' },
  },
};

export const customStepSchema = {
  title: 'CustomStep',
  type: 'object',
  required: [
    'workflow_type',
    'name',
    'version',
    'pinned_name',
    'url',
    'method',
    'timeout_ms',
    'retry',
    'enabled',
    'after',
    'deleted',
    'reason',
    'updated_at',
  ],
  properties: {
    workflow_type: workflowTypeSchema,
    name: { type: 'string' },
    version: { type: 'integer', description: 'Every change makes a new version; runs pin the one current at start' },
    pinned_name: { type: 'string', description: 'The step name runs pin and their timeline shows' },
    url: { type: 'string' },
    method: { type: 'string', enum: [...CUSTOM_STEP_METHODS] },
    timeout_ms: { type: 'integer' },
    retry: retrySchema,
    enabled: { type: 'boolean' },
    after: { type: 'string', description: 'The predefined step it follows' },
    deleted: { type: 'boolean' },
    actor: { type: ['string', 'null'], description: 'Who made this version' },
    reason: { type: 'string', description: 'Why this version was made' },
    updated_at: timestamp,
  },
};

const sequenceItemSchema = {
  title: 'WorkflowStepSlot',
  type: 'object',
  required: ['kind', 'name'],
  properties: {
    kind: { type: 'string', enum: ['predefined', 'custom'] },
    name: { type: 'string', description: 'The predefined step, or the custom step’s name' },
    custom: { ...customStepSchema, description: 'For a custom step: its current version' },
  },
};

const listSchema = {
  title: 'CustomStepList',
  type: 'object',
  required: ['workflow_type', 'predefined', 'sequence', 'items'],
  properties: {
    workflow_type: workflowTypeSchema,
    predefined: { type: 'array', items: { type: 'string' } },
    sequence: {
      type: 'array',
      items: sequenceItemSchema,
      description: 'Every step in order, disabled custom steps in their place (new runs leave them out)',
    },
    items: { type: 'array', items: customStepSchema },
  },
};

const typeParams = Type.Object({ type: workflowTypeSchema }, { additionalProperties: false });
const stepParams = Type.Object({ type: workflowTypeSchema, name: stepNameInput }, { additionalProperties: false });

const retryInput = Type.Object(
  {
    max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    initial_delay_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    max_delay_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 86_400_000 })),
  },
  {
    additionalProperties: false,
    description: 'Unset fields take the engine’s defaults (5 attempts, from 1 s doubling to 5 min)',
  },
);

const createBody = Type.Object(
  {
    name: stepNameInput,
    url: Type.String({ minLength: 1, maxLength: 2000, examples: ['https://hooks.example.com/crm-sync'] }),
    method: Type.Optional(Type.Enum([...CUSTOM_STEP_METHODS], { type: 'string', default: 'POST' })),
    after: predefinedStepInput,
    timeout_ms: Type.Optional(
      Type.Integer({ minimum: MIN_CUSTOM_TIMEOUT_MS, maximum: MAX_CUSTOM_TIMEOUT_MS, default: 10_000 }),
    ),
    retry: Type.Optional(retryInput),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    reason: reasonSchema,
  },
  { additionalProperties: false },
);

const withSecretSchema = {
  type: 'object',
  required: ['step', 'secret'],
  properties: {
    step: customStepSchema,
    secret: {
      type: ['string', 'null'],
      description: 'The signing secret (`whsec_…`), shown in this answer only; null on an idempotent replay.',
    },
  },
};

function changeContext(deps: ApiDeps, registry: Registry, type: string, principal: Principal | null) {
  return {
    type,
    predefined: predefinedSteps(registry, type),
    guard: deps.webhookGuard ?? NO_EXCEPTIONS,
    actor: principal ? actorOf(principal) : null,
    now: deps.clock(),
  };
}

export function customStepRoutes(deps: ApiDeps): RouteSpec[] {
  const { db, billing } = deps;
  if (!billing) return [];
  const registry = billing.registry;
  const base = '/workflow-types/:type/custom-steps';
  return [
    route({
      method: 'GET',
      url: base,
      operationId: 'listCustomSteps',
      access: 'developer',
      summary: "A workflow type's custom steps, in place among its predefined steps",
      tags: WORKFLOW_TAGS,
      params: typeParams,
      response: { 200: listSchema, ...problemResponses() },
      async handler(ctx) {
        const predefined = predefinedSteps(registry, ctx.params.type);
        const custom = (await listCustomSteps(db, ctx.params.type)).map((s) => recordView(customStepView(s)));
        const slot = (after: string) =>
          custom.filter((s) => s.after === after).map((s) => ({ kind: 'custom', name: s.name, custom: s }));
        const orphans = custom.filter((s) => !predefined.includes(s.after));
        const sequence = [
          ...predefined.flatMap((name) => [{ kind: 'predefined', name }, ...slot(name)]),
          ...orphans.map((s) => ({ kind: 'custom', name: s.name, custom: s })),
        ];
        return {
          status: 200,
          body: { workflow_type: ctx.params.type, predefined, sequence, items: custom },
        };
      },
    }),
    route({
      method: 'POST',
      url: base,
      operationId: 'createCustomStep',
      access: 'developer',
      summary: 'Insert a custom webhook step after a predefined step (its secret is shown once)',
      description:
        'Runs started from now on call it; runs already started keep the steps they pinned. The URL must be ' +
        'https and must not point to a private, loopback or link-local address unless ' +
        '`BILLFLOW_WEBHOOK_ALLOW_HOSTS` allows it (400 naming `url`). 409 when the type already has a step ' +
        'of that name.',
      tags: WORKFLOW_TAGS,
      audit: 'custom_step.create',
      creates: true,
      secretFields: ['secret'],
      params: typeParams,
      body: createBody,
      response: { 201: withSecretSchema, ...problemResponses(409) },
      async handler(ctx) {
        const change = changeContext(deps, registry, ctx.params.type, ctx.principal);
        return ctx.transaction(async (tx) => {
          const { step, secret } = await createCustomStep(tx, change, ctx.body);
          await ctx.audit(tx, {
            target: `${step.workflow_type}:${step.name}`,
            reason: step.reason,
            details: { version: step.version, url: step.url, method: step.method, after: step.after },
          });
          return { status: 201, body: { step: recordView(customStepView(step)), secret } };
        });
      },
    }),
    route({
      method: 'PATCH',
      url: `${base}/:name`,
      operationId: 'updateCustomStep',
      access: 'developer',
      summary: 'Enable, disable or move a custom step (new runs only)',
      description: 'Moved (`after`), it runs last among the custom steps after that predefined step.',
      tags: WORKFLOW_TAGS,
      audit: 'custom_step.update',
      params: stepParams,
      body: Type.Object(
        { enabled: Type.Optional(Type.Boolean()), after: Type.Optional(predefinedStepInput), reason: reasonSchema },
        { additionalProperties: false, minProperties: 2 },
      ),
      response: { 200: customStepSchema, ...problemResponses(409) },
      async handler(ctx) {
        const change = changeContext(deps, registry, ctx.params.type, ctx.principal);
        const step = await db.transaction(async (tx) => {
          const updated = await updateCustomStep(tx, change, ctx.params.name, ctx.body);
          await ctx.audit(tx, {
            target: `${updated.workflow_type}:${updated.name}`,
            reason: updated.reason,
            details: { version: updated.version, enabled: updated.enabled, after: updated.after },
          });
          return updated;
        });
        return { status: 200, body: recordView(customStepView(step)) };
      },
    }),
    route({
      method: 'DELETE',
      url: `${base}/:name`,
      operationId: 'deleteCustomStep',
      access: 'developer',
      summary: 'Delete a custom step (runs that pinned it still run it)',
      tags: WORKFLOW_TAGS,
      audit: 'custom_step.delete',
      params: stepParams,
      body: ReasonBody,
      response: { 200: customStepSchema, ...problemResponses(409) },
      async handler(ctx) {
        const change = changeContext(deps, registry, ctx.params.type, ctx.principal);
        const step = await db.transaction(async (tx) => {
          const deleted = await deleteCustomStep(tx, change, ctx.params.name, ctx.body);
          await ctx.audit(tx, {
            target: `${deleted.workflow_type}:${deleted.name}`,
            reason: deleted.reason,
            details: { version: deleted.version },
          });
          return deleted;
        });
        return { status: 200, body: recordView(customStepView(step)) };
      },
    }),
  ];
}
