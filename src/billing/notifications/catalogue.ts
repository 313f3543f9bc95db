// Billflow's notification catalogue: every event with its shipped texts and preview samples,
// built from the registry list (each workflow type's folder brings its events), the events billing
// sends outside its workflows, and notify's own team alerts. There is no other list of events.
import { TEAM_NOTIFICATIONS, notificationCatalogue } from '../../notify/index.ts';
import { WORKFLOWS } from '../workflows/registry.ts';
import { OUTSIDE_WORKFLOW_NOTIFICATIONS } from './outside-workflows.ts';

// Distributes over the modules (keyof a union would keep only the keys they all share).
type EventsOf<M> = M extends { notifications: infer N } ? keyof N & string : never;
type WorkflowEvent = EventsOf<(typeof WORKFLOWS)[number]>;

/** A notification event: one a registered type sends, one billing sends outside them, or a team alert. */
export type NotificationEvent =
  WorkflowEvent | keyof typeof OUTSIDE_WORKFLOW_NOTIFICATIONS | keyof typeof TEAM_NOTIFICATIONS;

/** In catalogue order: the registered types' events in registry order, then the rest. */
export const NOTIFICATIONS = notificationCatalogue<NotificationEvent>(
  ...WORKFLOWS.map((m) => m.notifications),
  OUTSIDE_WORKFLOW_NOTIFICATIONS,
  TEAM_NOTIFICATIONS,
);
