// The registry (src/billing/workflows/registry.ts) is the one source of the workflow types: each
// registered type brings every part the rest of Billflow needs, and what the API serves (its
// enum, the /workflow-types catalogue the admin UI builds its menus from) is what it lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WORKFLOWS, WORKFLOW_TYPES } from '../../src/billing/workflows/index.ts';
import {
  INTERNAL_ONLY_EVENTS,
  NOTIFICATION_EVENTS,
  TEMPLATE_CHANNELS,
  isNotificationEvent,
  sampleData,
} from '../../src/notify/index.ts';
import { shippedLocales, shippedTemplate } from '../../src/notify/templates/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { apiHarness } from './support.ts';

test('every registered workflow type has a definition, a start operation, a trigger builder and its events', () => {
  assert.equal(new Set(WORKFLOW_TYPES).size, WORKFLOWS.length, 'a type is registered twice');
  for (const module of WORKFLOWS) {
    assert.match(module.type, /^[a-z][a-z_]*$/, `${module.type}: a snake_case identifier`);
    assert.ok(module.label.trim(), `${module.type}: a label`);
    assert.equal(typeof module.define, 'function', `${module.type}: a definition`);
    assert.equal(typeof module.start, 'function', `${module.type}: a start operation`);
    assert.match(module.trigger.prefix, /^[a-z]+$/, `${module.type}: a trigger builder with its record's id prefix`);
    assert.equal(typeof module.trigger.build, 'function', `${module.type}: a trigger builder`);
    assert.ok(module.events.length > 0, `${module.type}: the notification events it sends`);
  }
});

test('every event of a registered type has shipped templates in every shipped locale, and preview samples', () => {
  for (const module of WORKFLOWS) {
    for (const event of module.events) {
      assert.ok(isNotificationEvent(event), `${module.type}: ${event} is a notification event`);
      const sample = sampleData(event);
      assert.ok(Object.keys(sample).length > 0, `${module.type}: ${event} has preview samples`);
      for (const channel of TEMPLATE_CHANNELS) {
        if (channel === 'email' && INTERNAL_ONLY_EVENTS.includes(event)) continue;
        for (const locale of shippedLocales(channel)) {
          const template = shippedTemplate(event, channel, locale);
          assert.ok(template?.body.trim(), `${module.type}: ${event} has a shipped ${channel} template in ${locale}`);
        }
      }
    }
  }
});

test('every notification event belongs to a registered type, or is one of the few sent outside the workflows', () => {
  // Sent by the failure alerts, the daily reconciliation and the billing calendar (trials).
  const outside = ['run_failed', 'alert_digest', 'reconciliation_failed', 'trial_ending', 'webhook_endpoint_disabled'];
  const named = WORKFLOWS.flatMap((m) => m.events);
  assert.equal(new Set(named).size, named.length, 'an event is named by two types');
  assert.deepEqual([...named, ...outside].sort(), [...NOTIFICATION_EVENTS].sort());
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
