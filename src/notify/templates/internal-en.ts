import type { NotificationEvent } from '../events.ts';
import type { TemplateSource } from '../liquid.ts';

const who = '{{ customer.name | default: customer.email }}';

/**
 * Team-facing texts: `subject` is the in-app title and team email subject, `body` the in-app
 * text and team email body.
 */
export const INTERNAL_EN: Record<NotificationEvent, TemplateSource> = {
  subscription_created: {
    subject: `New subscription: ${who} on {{ subscription.plan_name }}`,
    body: '{{ customer.email }} subscribed to {{ subscription.plan_name }} at {{ subscription.amount | money: subscription.currency }} per {{ subscription.interval }}.',
  },
  subscription_cancelled: {
    subject: `Cancelled: ${who} on {{ subscription.plan_name }}`,
    body: '{{ customer.email }} cancelled {{ subscription.plan_name }}{% if subscription.ends_at %}, ending {{ subscription.ends_at | localdate }}{% endif %}.{% if refund %} Refund: {{ refund.amount | money: refund.currency }}.{% endif %}',
  },
  subscription_plan_changed: {
    subject: `Plan change: ${who} from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }}`,
    body: '{{ customer.email }} changed from {{ plan_change.from_plan_name }} ({{ plan_change.from_amount | money: plan_change.currency }}) to {{ plan_change.to_plan_name }} ({{ plan_change.to_amount | money: plan_change.currency }}) per {{ plan_change.interval }}, {% if plan_change.when == "now" %}now; next invoice: +{{ plan_change.charge_amount | money: plan_change.currency }}, −{{ plan_change.credit_amount | money: plan_change.currency }}{% else %}from {{ plan_change.effective_at | localdate }}{% endif %}.',
  },
  trial_ending: {
    subject: `Trial ending: ${who} on {{ subscription.plan_name }}`,
    body: '{{ customer.email }}\'s {{ subscription.plan_name }} trial ends {{ subscription.trial_end | localdate: "medium" }}; then {{ subscription.amount | money: subscription.currency }} per {{ subscription.interval }}.',
  },
  payment_succeeded: {
    subject: `Payment received: {{ payment.amount | money: payment.currency }} from ${who}`,
    body: 'Payment {{ payment.id }} of {{ payment.amount | money: payment.currency }} succeeded; receipt {{ receipt.number }}.',
  },
  payment_failed: {
    subject: `Payment failed: {{ payment.amount | money: payment.currency }} from ${who}`,
    body: 'Payment {{ payment.id }} failed{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}.{% if next_retry_at %} Next retry {{ next_retry_at | localdate: "medium" }}.{% endif %}',
  },
  payment_recovered: {
    subject: `Payment recovered: {{ payment.amount | money: payment.currency }} from ${who}`,
    body: 'Payment {{ payment.id }} succeeded on retry{% if attempts %} after {{ attempts }} attempts{% endif %}.',
  },
  invoice_created: {
    subject: `Invoice {{ invoice.number }} for ${who}`,
    body: 'Invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} sent, due {{ invoice.due_date | localdate: "medium" }}.',
  },
  invoice_overdue: {
    subject: `Overdue: invoice {{ invoice.number }} of ${who}`,
    body: 'Invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} was due {{ invoice.due_date | localdate: "medium" }}.{% if grace_period_ends %} Customer is disabled after {{ grace_period_ends | localdate: "medium" }}.{% endif %}',
  },
  refund_created: {
    subject: `Refund: {{ refund.amount | money: refund.currency }} to ${who}`,
    body: 'Refund {{ refund.id }} of {{ refund.amount | money: refund.currency }}{% if refund.reason %} ({{ refund.reason }}){% endif %}.',
  },
  chargeback_created: {
    subject: `Chargeback: {{ chargeback.amount | money: chargeback.currency }} from ${who}`,
    body: 'Chargeback {{ chargeback.id }} of {{ chargeback.amount | money: chargeback.currency }}{% if chargeback.reason %} ({{ chargeback.reason }}){% endif %}. Respond in the payment provider before the deadline.',
  },
  customer_disabled: {
    subject: `Customer disabled: ${who}`,
    body: '{{ customer.email }} was disabled: invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} is unpaid past the grace period.',
  },
  run_failed: {
    subject: 'Run failed: {{ run.type }} at {{ run.step }}',
    body: 'Run {{ run.id }} ({{ run.type }}) stopped at step {{ run.step }}: {{ run.error }}{% if run.url %}\n{{ run.url }}{% endif %}',
  },
  alert_digest: {
    subject: '{{ count }} more runs failed',
    body: `{{ count }} more runs failed while alerts were capped:
{% for s in by_step %}- {{ s.count }} at {{ s.step }}
{% endfor %}{% for a in alerts %}
{{ a.run_id }} ({{ a.type }}) at {{ a.step }}: {{ a.error }}{% endfor %}{% if more > 0 %}
… and {{ more }} more.{% endif %}`,
  },
  reconciliation_failed: {
    subject: 'Reconciliation: {{ finding_count }} finding{% if finding_count != 1 %}s{% endif %}',
    body: `The daily check found what may be lost or counted twice:
{% for c in checks %}- {{ c.title }}: {{ c.finding_count }}
{% endfor %}{% if url %}{{ url }}{% endif %}`,
  },
  webhook_endpoint_disabled: {
    subject: 'Webhook endpoint disabled: {{ endpoint.origin }}',
    body: `Every delivery to {{ endpoint.origin }} ({{ endpoint.id }}) failed for {{ days }} days, so it was disabled. Messages wait for it: enable it again, then recover the failed ones.{% if url %}
{{ url }}{% endif %}`,
  },
};

/** Slack messages (mrkdwn; data is escaped so a customer name cannot ping a channel). */
export const SLACK_EN: Record<NotificationEvent, TemplateSource> = {
  subscription_created: {
    body: `:tada: *New subscription* — ${who} on {{ subscription.plan_name }} ({{ subscription.amount | money: subscription.currency }}/{{ subscription.interval }})`,
  },
  subscription_cancelled: {
    body: `:wave: *Cancelled* — ${who} on {{ subscription.plan_name }}{% if refund %}, refund {{ refund.amount | money: refund.currency }}{% endif %}`,
  },
  subscription_plan_changed: {
    body: `:arrows_counterclockwise: *Plan change* — ${who} from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }}{% if plan_change.when == "period_end" %} on {{ plan_change.effective_at | localdate: "medium" }}{% endif %}`,
  },
  trial_ending: {
    body: `:hourglass_flowing_sand: *Trial ending* — ${who} on {{ subscription.plan_name }}, ends {{ subscription.trial_end | localdate: "medium" }}`,
  },
  payment_succeeded: {
    body: `:white_check_mark: *Payment received* — {{ payment.amount | money: payment.currency }} from ${who}`,
  },
  payment_failed: {
    body: `:warning: *Payment failed* — {{ payment.amount | money: payment.currency }} from ${who}{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}`,
  },
  payment_recovered: {
    body: `:repeat: *Payment recovered* — {{ payment.amount | money: payment.currency }} from ${who}`,
  },
  invoice_created: {
    body: `:page_facing_up: *Invoice {{ invoice.number }}* — {{ invoice.total | money: invoice.currency }} to ${who}, due {{ invoice.due_date | localdate: "medium" }}`,
  },
  invoice_overdue: {
    body: `:hourglass: *Overdue* — invoice {{ invoice.number }} ({{ invoice.total | money: invoice.currency }}) of ${who}`,
  },
  refund_created: {
    body: `:leftwards_arrow_with_hook: *Refund* — {{ refund.amount | money: refund.currency }} to ${who}`,
  },
  chargeback_created: {
    body: `:rotating_light: *Chargeback* — {{ chargeback.amount | money: chargeback.currency }} from ${who}{% if chargeback.reason %} ({{ chargeback.reason }}){% endif %}`,
  },
  customer_disabled: { body: `:no_entry: *Customer disabled* — ${who}, invoice {{ invoice.number }} unpaid` },
  run_failed: {
    body: ':x: *Run failed* — `{{ run.type }}` at `{{ run.step }}`: {{ run.error }}{% if run.url %} (<{{ run.url }}|{{ run.id }}>){% else %} ({{ run.id }}){% endif %}',
  },
  alert_digest: {
    body: `:x: *{{ count }} more runs failed* while alerts were capped
{% for s in by_step %}• {{ s.count }} at \`{{ s.step }}\`
{% endfor %}{% for a in alerts %}
{{ a.run_id }} ({{ a.type }}): {{ a.error }}{% endfor %}{% if more > 0 %}
… and {{ more }} more{% endif %}`,
  },
  reconciliation_failed: {
    body: `:mag: *Reconciliation: {{ finding_count }} finding{% if finding_count != 1 %}s{% endif %}*
{% for c in checks %}• {{ c.title }}: {{ c.finding_count }}
{% endfor %}{% if url %}<{{ url }}|Open the report>{% endif %}`,
  },
  webhook_endpoint_disabled: {
    body: `:warning: *Webhook endpoint disabled:* {{ endpoint.origin }} failed for {{ days }} days{% if url %} <{{ url }}|Open webhooks>{% endif %}`,
  },
};
