// The registry (src/billing/workflows/registry.ts) is the one source of the workflow types: each
// registered type brings every part the rest of Billflow needs, and what the API serves (its
// enum, the /workflow-types catalogue the admin UI builds its menus from) is what it lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WORKFLOWS, WORKFLOW_TYPES } from '../../src/billing/workflows/index.ts';
import { NOTIFICATION_EVENTS, SETTINGS_EVENTS, shippedLocales } from '../../src/billing/notifications/index.ts';
import { OUTSIDE_WORKFLOW_NOTIFICATIONS } from '../../src/billing/notifications/outside-workflows.ts';
import { TEAM_NOTIFICATIONS, TEMPLATE_CHANNELS, previewTemplate } from '../../src/notify/index.ts';
import type { EventNotification } from '../../src/notify/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { apiHarness } from './support.ts';

test('every registered workflow type has a definition, a start operation, a trigger builder and its events', () => {
  assert.equal(new Set(WORKFLOW_TYPES).size, WORKFLOWS.length, 'a type is registered twice');
  for (const module of WORKFLOWS) {
    assert.match(module.type, /^[a-z][a-z_]*$/, `${module.type}: a snake_case identifier`);
    assert.ok(module.label.trim(), `${module.type}: a label`);
    assert.equal(typeof module.define, 'function', `${module.type}: a definition`);
    assert.equal(typeof module.route.start, 'function', `${module.type}: a start route and its operation`);
    assert.match(module.route.operationId, /^[a-z][A-Za-z]+$/, `${module.type}: its start route's operationId`);
    assert.equal((module.route.body as { type?: unknown }).type, 'object', `${module.type}: its start route's body`);
    assert.match(module.trigger.prefix, /^[a-z]+$/, `${module.type}: a trigger builder with its record's id prefix`);
    assert.equal(typeof module.trigger.build, 'function', `${module.type}: a trigger builder`);
    assert.ok(Object.keys(module.notifications).length > 0, `${module.type}: the notification events it sends`);
  }
});

test("every event of a registered type ships, from the type's folder, its texts in every shipped locale and a preview sample", async () => {
  // Shipped locales per channel: en and de for customer emails, en for the team's texts today; a
  // locale one folder adds must be added by all.
  assert.deepEqual(shippedLocales('email'), ['en', 'de']);
  for (const module of WORKFLOWS) {
    const shipped: Record<string, EventNotification> = module.notifications;
    for (const [event, notification] of Object.entries(shipped)) {
      const what = `${module.type}: ${event}`;
      assert.match(event, /^[a-z][a-z_]*$/, `${what} is a snake_case event name`);
      assert.ok(Object.keys(notification.sample).length > 0, `${what} has a preview sample`);
      // Every event of a workflow mails its customer (send_customer_email).
      assert.ok(notification.email, `${what} has customer emails`);
      for (const channel of TEMPLATE_CHANNELS) {
        const templates = notification[channel] ?? {};
        for (const locale of shippedLocales(channel)) {
          const template = templates[locale];
          assert.ok(template?.body.trim(), `${what} has a shipped ${channel} template in ${locale}`);
          if (!template) continue;
          if (channel !== 'slack') assert.ok(template.subject?.trim(), `${what}: ${channel}/${locale} has a subject`);
          // The sample is the contract: the text renders it and uses no variable it lacks.
          const rendered = await previewTemplate(template, { ...notification.sample }, { channel, locale });
          assert.deepEqual(rendered.warnings, [], `${what}: ${channel}/${locale} uses only the sample's variables`);
        }
        const extra = Object.keys(templates).filter((l) => !shippedLocales(channel).includes(l));
        assert.deepEqual(extra, [], `${what}: ${channel} locales`);
      }
    }
  }
});

test("the notification events are the registered types' events and the few sent outside the workflows, each once", () => {
  const named = WORKFLOWS.flatMap((m) => Object.keys(m.notifications));
  assert.equal(new Set(named).size, named.length, 'an event is named by two types');
  // Sent by the billing calendar (trials), the daily reconciliation, and notify's own team alerts.
  const outside = [...Object.keys(OUTSIDE_WORKFLOW_NOTIFICATIONS), ...Object.keys(TEAM_NOTIFICATIONS)];
  assert.deepEqual(outside.sort(), [
    'alert_digest',
    'reconciliation_failed',
    'run_failed',
    'trial_ending',
    'webhook_endpoint_disabled',
  ]);
  assert.deepEqual(
    [...NOTIFICATION_EVENTS],
    [...named, ...Object.keys(OUTSIDE_WORKFLOW_NOTIFICATIONS), ...Object.keys(TEAM_NOTIFICATIONS)],
  );
  for (const event of named) assert.ok(SETTINGS_EVENTS.includes(event as never), `${event} has settings`);
});

eachDatabase((kind) => {
  test('the API serves exactly the registered types: their routes, enum and catalogue', async () => {
    const h = await apiHarness(kind);
    try {
      for (const module of WORKFLOWS) {
        const served = h.routes.some(
          (r) =>
            r.method.toLowerCase() === module.route.method &&
            r.url.replace(/:(\w+)/g, '{$1}') === module.route.path &&
            r.access !== 'public',
        );
        assert.ok(served, `${module.type}: ${module.route.method.toUpperCase()} ${module.route.path} is a route`);
      }
      const doc = (await h.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
      assert.deepEqual(doc.components.schemas.WorkflowType.enum, [...WORKFLOW_TYPES]);
      // The notification events the templates and settings routes take come from the same list.
      assert.deepEqual(doc.components.schemas.NotificationEvent.enum, [...NOTIFICATION_EVENTS]);
      assert.deepEqual(doc.components.schemas.SettingsEvent.enum, [...SETTINGS_EVENTS]);
      const response = await h.app.inject({
        method: 'GET',
        url: '/api/v1/workflow-types',
        headers: h.apiKey('viewer'),
      });
      assert.equal(response.statusCode, 200);
      const items = response.json().items as { type: string; label: string; subject_prefix: string }[];
      assert.deepEqual(
        items.map((i) => [i.type, i.label, i.subject_prefix]),
        WORKFLOWS.map((m) => [m.type, m.label, m.trigger.prefix]),
      );
    } finally {
      await h.app.close();
    }
  });
});
