// The seven billing workflow types, built from their dependencies by closure.
import { createRegistry, startWorkflow, withStartHooks } from '../../engine/index.ts';
import type { Registry } from '../../engine/index.ts';
import type { BillingDeps, WorkflowDeps } from './deps.ts';
import { subscriptionCreation } from './subscription-creation.ts';
import { subscriptionCancellation } from './subscription-cancellation.ts';
import { paymentSuccess } from './payment-success.ts';
import { paymentFailure } from './payment-failure.ts';
import { invoiceCreation } from './invoice-creation.ts';
import { refundCreation } from './refund-creation.ts';
import { chargebackCreation } from './chargeback-creation.ts';
import { WORKFLOW_LABELS, WORKFLOW_TYPES } from './types.ts';
import type { WorkflowType } from './types.ts';

export * from './deps.ts';
export { WORKFLOW_LABELS, WORKFLOW_TYPES } from './types.ts';
export type { WorkflowType } from './types.ts';

/** The registry of the seven billing workflows; runs they start go through the same registry. */
export function billingRegistry(deps: BillingDeps): Registry {
  // Steps call startRun only while runs execute, long after the registry below exists.
  const full: WorkflowDeps = { ...deps, startRun: (q, request) => startWorkflow(q, hooked, request) };
  const registry = createRegistry([
    subscriptionCreation(full),
    subscriptionCancellation(full),
    paymentSuccess(full),
    paymentFailure(full),
    invoiceCreation(full),
    refundCreation(full),
    chargebackCreation(full),
  ]);
  const hooked = withStartHooks(registry, deps.startHooks);
  return hooked;
}

/**
 * The billing types `registry` runs, in catalogue order, with their labels, predefined steps and
 * what skipping a step means where a step says so.
 */
export function workflowCatalogue(
  registry: Registry,
): { type: WorkflowType; label: string; steps: string[]; when_skipped: Record<string, string> }[] {
  return WORKFLOW_TYPES.flatMap((type) => {
    const definition = registry.get(type);
    if (!definition) return [];
    const whenSkipped = definition.steps.flatMap((s) => (s.whenSkipped ? [[s.name, s.whenSkipped] as const] : []));
    return [
      {
        type,
        label: WORKFLOW_LABELS[type],
        steps: definition.steps.map((s) => s.name),
        when_skipped: Object.fromEntries(whenSkipped),
      },
    ];
  });
}
