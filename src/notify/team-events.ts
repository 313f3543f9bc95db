// The team's own alerts, which notify raises itself: a run that failed, the digest of those held
// back by the alert cap, and a webhook endpoint disabled after days of failures. Billing's events
// ship with billing (its catalogue includes these).
import { notificationCatalogue } from './catalogue.ts';
import type { EventNotifications } from './catalogue.ts';

export const TEAM_NOTIFICATIONS = {
  run_failed: {
    internal: {
      en: {
        subject: 'Run failed: {{ run.type }} at {{ run.step }}',
        body: 'Run {{ run.id }} ({{ run.type }}) stopped at step {{ run.step }}: {{ run.error }}{% if run.url %}\n{{ run.url }}{% endif %}',
      },
    },
    slack: {
      en: {
        body: ':x: *Run failed* — `{{ run.type }}` at `{{ run.step }}`: {{ run.error }}{% if run.url %} (<{{ run.url }}|{{ run.id }}>){% else %} ({{ run.id }}){% endif %}',
      },
    },
    sample: {
      run: {
        id: 'run_01a2b3c4d5e6f7a8b9c0',
        type: 'payment_success',
        step: 'send_customer_email',
        error: 'SMTP server unreachable: connect ECONNREFUSED 10.0.0.5:587',
        url: 'https://billflow.example/runs/run_01a2b3c4d5e6f7a8b9c0',
      },
    },
  },
  alert_digest: {
    internal: {
      en: {
        subject: '{{ count }} more runs failed',
        body: `{{ count }} more runs failed while alerts were capped:
{% for s in by_step %}- {{ s.count }} at {{ s.step }}
{% endfor %}{% for a in alerts %}
{{ a.run_id }} ({{ a.type }}) at {{ a.step }}: {{ a.error }}{% endfor %}{% if more > 0 %}
… and {{ more }} more.{% endif %}`,
      },
    },
    slack: {
      en: {
        body: `:x: *{{ count }} more runs failed* while alerts were capped
{% for s in by_step %}• {{ s.count }} at \`{{ s.step }}\`
{% endfor %}{% for a in alerts %}
{{ a.run_id }} ({{ a.type }}): {{ a.error }}{% endfor %}{% if more > 0 %}
… and {{ more }} more{% endif %}`,
      },
    },
    sample: {
      count: 23,
      more: 20,
      alerts: [
        {
          run_id: 'run_01a2b3c4d5e6f7a8b9c1',
          type: 'payment_success',
          step: 'send_customer_email',
          error: 'SMTP down',
        },
        {
          run_id: 'run_01a2b3c4d5e6f7a8b9c2',
          type: 'invoice_creation',
          step: 'send_customer_email',
          error: 'SMTP down',
        },
        { run_id: 'run_01a2b3c4d5e6f7a8b9c3', type: 'refund_creation', step: 'execute_provider_refund', error: '500' },
      ],
      by_step: [
        { step: 'send_customer_email', count: 21 },
        { step: 'execute_provider_refund', count: 2 },
      ],
    },
    // A digest follows the settings of run_failed.
    settings: false,
  },
  webhook_endpoint_disabled: {
    internal: {
      en: {
        subject: 'Webhook endpoint disabled: {{ endpoint.origin }}',
        body: `Every delivery to {{ endpoint.origin }} ({{ endpoint.id }}) failed for {{ days }} days, so it was disabled. Messages wait for it: enable it again, then recover the failed ones.{% if url %}
{{ url }}{% endif %}`,
      },
    },
    slack: {
      en: {
        body: `:warning: *Webhook endpoint disabled:* {{ endpoint.origin }} failed for {{ days }} days{% if url %} <{{ url }}|Open webhooks>{% endif %}`,
      },
    },
    sample: {
      endpoint: { id: 'whe_0193a2b4c5d6e7f8a9b0c1d2e3f4', origin: 'https://hooks.example.com' },
      days: 5,
      url: 'https://billflow.example.com/settings/webhooks',
    },
    settings: false,
  },
} satisfies EventNotifications;

/** What notify's own alerts render and route with (billing's catalogue holds the same events). */
export const TEAM_CATALOGUE = notificationCatalogue(TEAM_NOTIFICATIONS);
