import type { CustomerEvent } from './types.ts';
import type { TemplateSource } from '../liquid.ts';
import { htmlEmail, htmlFacts } from './layout.ts';

const hello = 'Hello {{ customer.name | default: "there" }},';
const signoff = '— {{ company.name }}';

/** The English customer emails shipped with Billflow (the fallback for every other locale). */
export const EMAIL_EN: Record<CustomerEvent, TemplateSource> = {
  subscription_created: {
    subject: 'Welcome to {{ subscription.plan_name }}',
    body: `${hello}

your {{ subscription.plan_name }} subscription is active: {{ subscription.amount | money: subscription.currency }} per {{ subscription.interval }}.
The current period ends on {{ subscription.current_period_end | localdate }}.

${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Welcome to {{ subscription.plan_name }}</h1>
<p>${hello}</p>
<p>your subscription is active.</p>
${htmlFacts([
  ['Plan', '{{ subscription.plan_name }}'],
  ['Price', '{{ subscription.amount | money: subscription.currency }} / {{ subscription.interval }}'],
  ['Current period ends', '{{ subscription.current_period_end | localdate }}'],
])}`,
    ),
  },
  subscription_cancelled: {
    subject: 'Your {{ subscription.plan_name }} subscription is cancelled',
    body: `${hello}

your {{ subscription.plan_name }} subscription is cancelled{% if subscription.ends_at %} and ends on {{ subscription.ends_at | localdate }}{% endif %}.
{% if refund %}We are refunding {{ refund.amount | money: refund.currency }} to your payment method.
{% endif %}
${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Subscription cancelled</h1>
<p>${hello}</p>
<p>your {{ subscription.plan_name }} subscription is cancelled{% if subscription.ends_at %} and ends on {{ subscription.ends_at | localdate }}{% endif %}.</p>
{% if refund %}<p>We are refunding <strong>{{ refund.amount | money: refund.currency }}</strong> to your payment method.</p>{% endif %}`,
    ),
  },
  subscription_plan_changed: {
    subject:
      'Your subscription {% if plan_change.when == "now" %}is now on{% else %}moves to{% endif %} {{ plan_change.to_plan_name }}',
    body: `${hello}

{% if plan_change.when == "now" %}your subscription moved from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }}: {{ plan_change.to_amount | money: plan_change.currency }} per {{ plan_change.interval }}.
{% if plan_change.charge_amount > 0 or plan_change.credit_amount > 0 %}Your next invoice charges {{ plan_change.charge_amount | money: plan_change.currency }} for the rest of this period on {{ plan_change.to_plan_name }} and credits {{ plan_change.credit_amount | money: plan_change.currency }} for the unused part of {{ plan_change.from_plan_name }}.
{% endif %}{% else %}your subscription moves from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }} on {{ plan_change.effective_at | localdate }}: then {{ plan_change.to_amount | money: plan_change.currency }} per {{ plan_change.interval }}.
{% endif %}
${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Plan changed</h1>
<p>${hello}</p>
<p>{% if plan_change.when == "now" %}your subscription moved from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }}.{% else %}your subscription moves from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }} on {{ plan_change.effective_at | localdate }}.{% endif %}</p>
${htmlFacts([
  ['New plan', '{{ plan_change.to_plan_name }}'],
  ['Price', '{{ plan_change.to_amount | money: plan_change.currency }} / {{ plan_change.interval }}'],
  ['Takes effect', '{{ plan_change.effective_at | localdate }}'],
])}
{% if plan_change.charge_amount > 0 or plan_change.credit_amount > 0 %}<p>Your next invoice charges <strong>{{ plan_change.charge_amount | money: plan_change.currency }}</strong> for the rest of this period and credits <strong>{{ plan_change.credit_amount | money: plan_change.currency }}</strong> for the unused part of {{ plan_change.from_plan_name }}.</p>{% endif %}`,
    ),
  },
  trial_ending: {
    subject: 'Your {{ subscription.plan_name }} trial ends on {{ subscription.trial_end | localdate }}',
    body: `${hello}

your {{ subscription.plan_name }} trial ends on {{ subscription.trial_end | localdate }}.
{% if subscription.collection_method == "send_invoice" %}We will then send you an invoice of {{ subscription.amount | money: subscription.currency }} per {{ subscription.interval }}.{% else %}We will then charge {{ subscription.amount | money: subscription.currency }} per {{ subscription.interval }} to your payment method on file.{% endif %}
Nothing to do if you want to keep it; to stop, cancel before that date.

${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Your trial ends soon</h1>
<p>${hello}</p>
<p>your {{ subscription.plan_name }} trial ends on <strong>{{ subscription.trial_end | localdate }}</strong>.</p>
${htmlFacts([
  ['Plan', '{{ subscription.plan_name }}'],
  ['Price after the trial', '{{ subscription.amount | money: subscription.currency }} / {{ subscription.interval }}'],
  ['Trial ends', '{{ subscription.trial_end | localdate }}'],
])}
<p>Nothing to do if you want to keep it; to stop, cancel before that date.</p>`,
    ),
  },
  payment_succeeded: {
    subject: 'Receipt {{ receipt.number }} for your payment of {{ payment.amount | money: payment.currency }}',
    body: `${hello}

thank you: we received your payment of {{ payment.amount | money: payment.currency }} on {{ payment.paid_at | localdate }}.
Your receipt {{ receipt.number }} is attached.

${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Thank you for your payment</h1>
<p>${hello}</p>
${htmlFacts([
  ['Amount', '{{ payment.amount | money: payment.currency }}'],
  ['Date', '{{ payment.paid_at | localdate }}'],
  ['Receipt', '{{ receipt.number }}'],
])}
<p>Your receipt is attached as a PDF.</p>`,
    ),
  },
  payment_failed: {
    subject: 'Your payment of {{ payment.amount | money: payment.currency }} did not go through',
    body: `${hello}

we could not charge {{ payment.amount | money: payment.currency }}{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}.
{% if next_retry_at %}We will try again on {{ next_retry_at | localdate }}. {% endif %}Please check that your payment method is up to date.

${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Your payment did not go through</h1>
<p>${hello}</p>
<p>we could not charge <strong>{{ payment.amount | money: payment.currency }}</strong>{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}.</p>
<p>{% if next_retry_at %}We will try again on {{ next_retry_at | localdate }}. {% endif %}Please check that your payment method is up to date.</p>`,
    ),
  },
  payment_recovered: {
    subject: 'Your payment of {{ payment.amount | money: payment.currency }} went through',
    body: `${hello}

good news: your payment of {{ payment.amount | money: payment.currency }} went through on {{ payment.paid_at | localdate }}. Nothing else to do.

${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Your payment went through</h1>
<p>${hello}</p>
<p>good news: your payment of <strong>{{ payment.amount | money: payment.currency }}</strong> went through on {{ payment.paid_at | localdate }}. Nothing else to do.</p>`,
    ),
  },
  invoice_created: {
    subject:
      'Invoice {{ invoice.number }}: {{ invoice.total | money: invoice.currency }} due {{ invoice.due_date | localdate }}',
    body: `${hello}

your invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} is attached. It is due on {{ invoice.due_date | localdate }}.

${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Invoice {{ invoice.number }}</h1>
<p>${hello}</p>
${htmlFacts([
  ['Amount due', '{{ invoice.total | money: invoice.currency }}'],
  ['Due date', '{{ invoice.due_date | localdate }}'],
])}
<p>The invoice is attached as a PDF.</p>`,
    ),
  },
  invoice_overdue: {
    subject: 'Invoice {{ invoice.number }} is overdue',
    body: `${hello}

invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} was due on {{ invoice.due_date | localdate }} and is still open.
{% if grace_period_ends %}Please pay it by {{ grace_period_ends | localdate }} to keep your account active.
{% endif %}
${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Invoice {{ invoice.number }} is overdue</h1>
<p>${hello}</p>
<p>invoice {{ invoice.number }} of <strong>{{ invoice.total | money: invoice.currency }}</strong> was due on {{ invoice.due_date | localdate }} and is still open.</p>
{% if grace_period_ends %}<p>Please pay it by <strong>{{ grace_period_ends | localdate }}</strong> to keep your account active.</p>{% endif %}`,
    ),
  },
  refund_created: {
    subject: 'Refund of {{ refund.amount | money: refund.currency }}',
    body: `${hello}

we have refunded {{ refund.amount | money: refund.currency }} to your payment method. It can take a few days to appear on your statement.

${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Your refund is on its way</h1>
<p>${hello}</p>
<p>we have refunded <strong>{{ refund.amount | money: refund.currency }}</strong> to your payment method. It can take a few days to appear on your statement.</p>`,
    ),
  },
  chargeback_created: {
    subject: 'A dispute was opened for {{ chargeback.amount | money: chargeback.currency }}',
    body: `${hello}

your bank told us that you disputed a payment of {{ chargeback.amount | money: chargeback.currency }}. If this was a mistake, please reply to this email so we can sort it out.

${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">A payment was disputed</h1>
<p>${hello}</p>
<p>your bank told us that you disputed a payment of <strong>{{ chargeback.amount | money: chargeback.currency }}</strong>. If this was a mistake, please reply to this email so we can sort it out.</p>`,
    ),
  },
  customer_disabled: {
    subject: 'Your account has been suspended',
    body: `${hello}

your account is suspended because invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} is unpaid. Pay it to restore access.

${signoff}`,
    html: htmlEmail(
      'en',
      `<h1 style="font-size:20px">Your account has been suspended</h1>
<p>${hello}</p>
<p>your account is suspended because invoice {{ invoice.number }} of <strong>{{ invoice.total | money: invoice.currency }}</strong> is unpaid. Pay it to restore access.</p>`,
    ),
  },
};
