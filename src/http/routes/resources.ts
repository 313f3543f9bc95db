// The resource routes: workflows, search, statistics, notifications and billing records.
import type { ApiDeps } from '../deps.ts';
import type { RouteSpec } from '../route.ts';
import { chargebackRoutes } from './chargebacks.ts';
import { customerRoutes } from './customers.ts';
import { customStepRoutes } from './custom-steps.ts';
import { invoiceRoutes } from './invoices.ts';
import { notificationRoutes } from './notifications.ts';
import { notificationSettingsRoutes } from './notification-settings.ts';
import { outboxRoutes } from './outbox.ts';
import { paymentRoutes } from './payments.ts';
import { planRoutes } from './plans.ts';
import { refundRoutes } from './refunds.ts';
import { searchRoutes } from './search.ts';
import { slackEndpointRoutes } from './slack-endpoints.ts';
import { webhookEndpointRoutes } from './webhook-endpoints.ts';
import { runWebhookRoutes } from './run-webhooks.ts';
import { statsRoutes } from './stats.ts';
import { reconciliationRoutes } from './reconciliation.ts';
import { subscriptionRoutes } from './subscriptions.ts';
import { subscriptionPeriodRoutes } from './subscription-periods.ts';
import { stripeEventRoutes } from './stripe-events.ts';
import { templateRoutes } from './templates.ts';
import { workflowActionRoutes } from './workflow-actions.ts';
import { workflowRoutes } from './workflows.ts';
import { workflowStartRoutes } from './workflow-starts.ts';

export function resourceRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    ...workflowRoutes(deps),
    ...workflowActionRoutes(deps),
    ...customStepRoutes(deps),
    ...searchRoutes(deps),
    ...statsRoutes(deps),
    ...reconciliationRoutes(deps),
    ...stripeEventRoutes(deps),
    ...customerRoutes(deps),
    ...planRoutes(deps),
    ...workflowStartRoutes(deps),
    ...subscriptionRoutes(deps),
    ...subscriptionPeriodRoutes(deps),
    ...invoiceRoutes(deps),
    ...paymentRoutes(deps),
    ...refundRoutes(deps),
    ...chargebackRoutes(deps),
    ...notificationSettingsRoutes(deps),
    ...templateRoutes(deps),
    ...slackEndpointRoutes(deps),
    ...webhookEndpointRoutes(deps),
    ...runWebhookRoutes(deps),
    ...outboxRoutes(deps),
    ...notificationRoutes(deps),
  ];
}
