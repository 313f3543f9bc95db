// The notification events this type sends, each with its shipped texts (the customer email in
// every shipped locale, the team's in-app/email and Slack texts) and its preview sample: the
// shape of the data the steps pass, which the template editor previews with.
import { htmlEmail } from '../../../notify/index.ts';
import type { EventNotifications } from '../../../notify/index.ts';
import { SAMPLE_COMPANY, SAMPLE_CUSTOMER, de, en, who } from '../shared/notification-parts.ts';

export const subscriptionCancellationNotifications = {
  subscription_cancelled: {
    email: {
      en: {
        subject: 'Your {{ subscription.plan_name }} subscription is cancelled',
        body: `${en.hello}

your {{ subscription.plan_name }} subscription is cancelled{% if subscription.ends_at %} and ends on {{ subscription.ends_at | localdate }}{% endif %}.
{% if refund %}We are refunding {{ refund.amount | money: refund.currency }} to your payment method.
{% endif %}
${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Subscription cancelled</h1>
<p>${en.hello}</p>
<p>your {{ subscription.plan_name }} subscription is cancelled{% if subscription.ends_at %} and ends on {{ subscription.ends_at | localdate }}{% endif %}.</p>
{% if refund %}<p>We are refunding <strong>{{ refund.amount | money: refund.currency }}</strong> to your payment method.</p>{% endif %}`,
        ),
      },
      de: {
        subject: 'Ihr Abonnement {{ subscription.plan_name }} ist gekündigt',
        body: `${de.hello}

Ihr Abonnement {{ subscription.plan_name }} ist gekündigt{% if subscription.ends_at %} und endet am {{ subscription.ends_at | localdate }}{% endif %}.
{% if refund %}Wir erstatten {{ refund.amount | money: refund.currency }} auf Ihr Zahlungsmittel.
{% endif %}
${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Abonnement gekündigt</h1>
<p>${de.hello}</p>
<p>Ihr Abonnement {{ subscription.plan_name }} ist gekündigt{% if subscription.ends_at %} und endet am {{ subscription.ends_at | localdate }}{% endif %}.</p>
{% if refund %}<p>Wir erstatten <strong>{{ refund.amount | money: refund.currency }}</strong> auf Ihr Zahlungsmittel.</p>{% endif %}`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Cancelled: ${who} on {{ subscription.plan_name }}`,
        body: '{{ customer.email }} cancelled {{ subscription.plan_name }}{% if subscription.ends_at %}, ending {{ subscription.ends_at | localdate }}{% endif %}.{% if refund %} Refund: {{ refund.amount | money: refund.currency }}.{% endif %}',
      },
    },
    slack: {
      en: {
        body: `:wave: *Cancelled* — ${who} on {{ subscription.plan_name }}{% if refund %}, refund {{ refund.amount | money: refund.currency }}{% endif %}`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      subscription: { id: 'sub_01a2b3c4d5e6f7a8b9c0', plan_name: 'Pro', ends_at: '2026-02-05' },
      refund: { amount: 1633, currency: 'EUR' },
    },
  },
} satisfies EventNotifications;
