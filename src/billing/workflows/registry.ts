// The one list of the billing workflow types. Everything that names the types derives from it:
// the engine's registry, the API's enum and the /workflow-types catalogue (the admin UI's menu,
// filters and trigger form), the manual-trigger builders and the notification events each sends.
// Adding a type is one folder (see docs/adding-a-workflow.md) and one line here.
import { chargebackCreationModule } from './chargeback-creation/index.ts';
import { invoiceCreationModule } from './invoice-creation/index.ts';
import { paymentFailureModule } from './payment-failure/index.ts';
import { paymentSuccessModule } from './payment-success/index.ts';
import { refundCreationModule } from './refund-creation/index.ts';
import type { WorkflowModule } from './shared/module.ts';
import { subscriptionCancellationModule } from './subscription-cancellation/index.ts';
import { subscriptionCreationModule } from './subscription-creation/index.ts';
import { subscriptionPlanChangeModule } from './subscription-plan-change/index.ts';

/** In catalogue order (the order of the UI's menu). */
export const WORKFLOWS = [
  subscriptionCreationModule,
  subscriptionCancellationModule,
  paymentSuccessModule,
  paymentFailureModule,
  invoiceCreationModule,
  refundCreationModule,
  chargebackCreationModule,
  subscriptionPlanChangeModule,
] as const;

export type WorkflowType = (typeof WORKFLOWS)[number]['type'];

/** The type identifiers, used in the API, the database and the UI. */
export const WORKFLOW_TYPES: readonly WorkflowType[] = WORKFLOWS.map((m) => m.type);

/** What each type is called where people read it (the admin UI's menu and filters). */
export const WORKFLOW_LABELS = Object.fromEntries(WORKFLOWS.map((m) => [m.type, m.label])) as Record<
  WorkflowType,
  string
>;

export function isWorkflowType(value: unknown): value is WorkflowType {
  return typeof value === 'string' && (WORKFLOW_TYPES as readonly string[]).includes(value);
}

/** The folder's module of a registered type. */
export function moduleOf(type: WorkflowType): WorkflowModule<WorkflowType> {
  const found = WORKFLOWS.find((m) => m.type === type);
  if (!found) throw new Error(`workflow type ${type} is not registered`);
  return found;
}
