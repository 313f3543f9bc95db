// The API's shapes, named after the OpenAPI document's component schemas. They are generated
// (api/schema.d.ts, `npm run gen:api`), never written here: a change in the API reaches the
// compiler, not a runtime surprise.
import type { components, operations } from './api/schema';

type Schemas = components['schemas'];

/** The JSON body an operation (named by its operationId) takes. */
export type BodyOf<K extends keyof operations> = NonNullable<
  operations[K]['requestBody']
>['content']['application/json'];

export type Role = Schemas['Role'];
export type Principal = Schemas['Principal'];
export type SignedIn = Schemas['SignedIn'];
export type User = Schemas['User'];
export type ApiKey = Schemas['ApiKey'];
export type AuditEntry = Schemas['AuditEntry'];

export type WorkflowType = Schemas['WorkflowType'];
export type WorkflowTypeInfo = Schemas['WorkflowTypeInfo'];
export type RunStatus = Schemas['RunStatus'];
export type RunSummary = Schemas['Run'];
export type RunListItem = Schemas['RunListItem'];
export type RunDetail = Schemas['RunDetail'];
export type RunStep = Schemas['RunStep'];
export type Attempt = Schemas['StepAttempt'];
export type RunActivity = Schemas['RunActivity'];
export type ActionResult = Schemas['ActionResult'];
export type Operation = Schemas['WorkflowOperation'];

export type Customer = Schemas['Customer'];
export type CustomerDetail = Schemas['CustomerDetail'];
export type InvoiceLine = Schemas['InvoiceLine'];
export type StatsSummary = Schemas['StatsSummary'];
export type TimeSeries = Schemas['TimeSeries'];

export type Notification = Schemas['Notification'];
export type NotificationSettings = Schemas['NotificationSettings'];
export type Template = Schemas['Template'];
export type TemplateListItem = Schemas['TemplateListItem'];
export type RenderedTemplate = Schemas['RenderedTemplate'];
export type SlackEndpoint = Schemas['SlackEndpoint'];
export type OutboxEmail = Schemas['OutboxEmail'];
export type OutboxEmailDetail = Schemas['OutboxEmailDetail'];

/** How the UI names each role; typed by the API's roles, so a new role cannot go unnamed. */
export const ROLE_LABELS: Record<Role, string> = {
  admin: 'Admin',
  developer: 'Developer',
  account_manager: 'Account manager',
  customer_support: 'Customer support',
  viewer: 'Viewer',
};

/** Highest first: each role includes those after it (the server checks every call again). */
export const ROLES = Object.keys(ROLE_LABELS) as Role[];

/** True when `role` includes `min` (each role includes those below it). */
export function roleAtLeast(role: Role, min: Role): boolean {
  return ROLES.indexOf(role) <= ROLES.indexOf(min);
}

/** How filters name each run status; typed by the API's statuses, so none can be missing. */
export const RUN_STATUS_LABELS: Record<RunStatus, string> = {
  pending: 'Pending',
  in_progress: 'In progress',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};
export const RUN_STATUSES = Object.keys(RUN_STATUS_LABELS) as RunStatus[];

export function isRunStatus(value: string): value is RunStatus {
  return value in RUN_STATUS_LABELS;
}
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type CustomStep = Schemas['CustomStep'];
