// The notification events this type sends, each with its shipped texts (the customer email in
// every shipped locale, the team's in-app/email and Slack texts) and its preview sample: the
// shape of the data the steps pass, which the template editor previews with.
import { htmlEmail, htmlFacts } from '../../../notify/index.ts';
import type { EventNotifications } from '../../../notify/index.ts';
import { SAMPLE_COMPANY, SAMPLE_CUSTOMER, SAMPLE_SUBSCRIPTION, de, en, who } from '../shared/notification-parts.ts';

export const subscriptionCreationNotifications = {
  subscription_created: {
    email: {
      en: {
        subject: 'Welcome to {{ subscription.plan_name }}',
        body: `${en.hello}

your {{ subscription.plan_name }} subscription is active: {{ subscription.amount | money: subscription.currency }} per {{ subscription.interval }}.
The current period ends on {{ subscription.current_period_end | localdate }}.

${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Welcome to {{ subscription.plan_name }}</h1>
<p>${en.hello}</p>
<p>your subscription is active.</p>
${htmlFacts([
  ['Plan', '{{ subscription.plan_name }}'],
  ['Price', '{{ subscription.amount | money: subscription.currency }} / {{ subscription.interval }}'],
  ['Current period ends', '{{ subscription.current_period_end | localdate }}'],
])}`,
        ),
      },
      de: {
        subject: 'Willkommen bei {{ subscription.plan_name }}',
        body: `${de.hello}

Ihr Abonnement {{ subscription.plan_name }} ist aktiv: {{ subscription.amount | money: subscription.currency }} pro {% case subscription.interval %}{% when "week" %}Woche{% when "year" %}Jahr{% else %}Monat{% endcase %}.
Der aktuelle Zeitraum endet am {{ subscription.current_period_end | localdate }}.

${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Willkommen bei {{ subscription.plan_name }}</h1>
<p>${de.hello}</p>
<p>Ihr Abonnement ist aktiv.</p>
${htmlFacts([
  ['Tarif', '{{ subscription.plan_name }}'],
  ['Preis', '{{ subscription.amount | money: subscription.currency }}'],
  ['Zeitraum endet am', '{{ subscription.current_period_end | localdate }}'],
])}`,
        ),
      },
    },
    internal: {
      en: {
        subject: `New subscription: ${who} on {{ subscription.plan_name }}`,
        body: '{{ customer.email }} subscribed to {{ subscription.plan_name }} at {{ subscription.amount | money: subscription.currency }} per {{ subscription.interval }}.',
      },
    },
    slack: {
      en: {
        body: `:tada: *New subscription* — ${who} on {{ subscription.plan_name }} ({{ subscription.amount | money: subscription.currency }}/{{ subscription.interval }})`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      subscription: {
        ...SAMPLE_SUBSCRIPTION,
        current_period_end: '2026-02-05',
      },
    },
  },
} satisfies EventNotifications;
