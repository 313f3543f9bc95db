// The billing workflows: the registry list (registry.ts) built into the engine's registry, the
// catalogue the API serves, and the operations that start runs from requests and events.
import { createRegistry, startWorkflow, withStartHooks } from '../../engine/index.ts';
import type { Registry } from '../../engine/index.ts';
import { NO_EXCEPTIONS } from '../../notify/index.ts';
import { NOTIFICATIONS } from '../notifications/catalogue.ts';
import { withCustomSteps } from './custom-steps/index.ts';
import { WORKFLOWS } from './registry.ts';
import type { WorkflowType } from './registry.ts';
import type { BillingDeps, WorkflowDeps } from './shared/deps.ts';

export * from './shared/deps.ts';
export { WORKFLOWS, WORKFLOW_LABELS, WORKFLOW_TYPES, isWorkflowType, moduleOf } from './registry.ts';
export type { WorkflowType } from './registry.ts';
export type { WorkflowModule, TriggerBuilder, TriggerInput, StartRoute, StartRequest } from './shared/module.ts';
export type { RunOrigin } from './shared/origin.ts';
export type { OperationOptions, OperationResult } from './shared/operation-options.ts';
export { existingRecordRun } from './shared/operation.ts';
export { startPayment, chargeInvoice } from './shared/payment-operation.ts';
export type { ChargeInvoiceDeps, ChargeInvoiceOptions } from './shared/payment-operation.ts';
export { startSubscription } from './subscription-creation/operation.ts';
export { requestCancellation } from './subscription-cancellation/operation.ts';
export { requestPlanChange } from './subscription-plan-change/operation.ts';
export { startInvoice, payInvoice } from './invoice-creation/operation.ts';
export type { PayInvoiceOptions, PayInvoiceResult } from './invoice-creation/operation.ts';
export { startRefund } from './refund-creation/operation.ts';
export { startChargeback } from './chargeback-creation/operation.ts';
export { triggerWorkflow, triggerSubjectPrefix } from './trigger.ts';
export {
  createCustomStep,
  updateCustomStep,
  deleteCustomStep,
  listCustomSteps,
  customStepView,
  predefinedSteps,
  plannedSteps,
  CUSTOM_STEP_METHODS,
  DEFAULT_CUSTOM_TIMEOUT_MS,
  MIN_CUSTOM_TIMEOUT_MS,
  MAX_CUSTOM_TIMEOUT_MS,
  CUSTOM_STEP_EVENT,
} from './custom-steps/index.ts';
export type { CustomStepView, CustomStepInput } from './custom-steps/index.ts';
export type { TriggerRequest, TriggerResult } from './trigger.ts';

/** The registry of the billing workflows; runs they start go through the same registry. */
export function billingRegistry(deps: BillingDeps): Registry {
  // Steps call startRun only while runs execute, long after the registry below exists.
  const full: WorkflowDeps = {
    ...deps,
    notifications: NOTIFICATIONS,
    startRun: (q, request) => startWorkflow(q, hooked, request),
  };
  const custom = { db: deps.db, guard: deps.webhookGuard ?? NO_EXCEPTIONS, resolver: deps.webhookResolver };
  const registry = createRegistry(WORKFLOWS.map((m) => withCustomSteps(m.define(full), custom)));
  const hooked = withStartHooks(registry, deps.startHooks);
  return hooked;
}

/**
 * The billing types `registry` runs, in catalogue order, with their labels, predefined steps,
 * what skipping a step means where a step says so, and the record a manual trigger takes.
 */
export function workflowCatalogue(registry: Registry): {
  type: WorkflowType;
  label: string;
  steps: string[];
  when_skipped: Record<string, string>;
  subject_prefix: string;
}[] {
  return WORKFLOWS.flatMap((module) => {
    const definition = registry.get(module.type);
    if (!definition) return [];
    const whenSkipped = definition.steps.flatMap((s) => (s.whenSkipped ? [[s.name, s.whenSkipped] as const] : []));
    return [
      {
        type: module.type,
        label: module.label,
        steps: definition.steps.map((s) => s.name),
        when_skipped: Object.fromEntries(whenSkipped),
        subject_prefix: module.trigger.prefix,
      },
    ];
  });
}
