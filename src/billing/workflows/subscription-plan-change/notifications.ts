// The notification events this type sends, each with its shipped texts (the customer email in
// every shipped locale, the team's in-app/email and Slack texts) and its preview sample: the
// shape of the data the steps pass, which the template editor previews with.
import { htmlEmail, htmlFacts } from '../../../notify/index.ts';
import type { EventNotifications } from '../../../notify/index.ts';
import { SAMPLE_COMPANY, SAMPLE_CUSTOMER, de, en, who } from '../shared/notification-parts.ts';

export const subscriptionPlanChangeNotifications = {
  subscription_plan_changed: {
    email: {
      en: {
        subject:
          'Your subscription {% if plan_change.when == "now" %}is now on{% else %}moves to{% endif %} {{ plan_change.to_plan_name }}',
        body: `${en.hello}

{% if plan_change.when == "now" %}your subscription moved from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }}: {{ plan_change.to_amount | money: plan_change.currency }} per {{ plan_change.interval }}.
{% if plan_change.charge_amount > 0 or plan_change.credit_amount > 0 %}Your next invoice charges {{ plan_change.charge_amount | money: plan_change.currency }} for the rest of this period on {{ plan_change.to_plan_name }} and credits {{ plan_change.credit_amount | money: plan_change.currency }} for the unused part of {{ plan_change.from_plan_name }}.
{% endif %}{% else %}your subscription moves from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }} on {{ plan_change.effective_at | localdate }}: then {{ plan_change.to_amount | money: plan_change.currency }} per {{ plan_change.interval }}.
{% endif %}
${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Plan changed</h1>
<p>${en.hello}</p>
<p>{% if plan_change.when == "now" %}your subscription moved from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }}.{% else %}your subscription moves from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }} on {{ plan_change.effective_at | localdate }}.{% endif %}</p>
${htmlFacts([
  ['New plan', '{{ plan_change.to_plan_name }}'],
  ['Price', '{{ plan_change.to_amount | money: plan_change.currency }} / {{ plan_change.interval }}'],
  ['Takes effect', '{{ plan_change.effective_at | localdate }}'],
])}
{% if plan_change.charge_amount > 0 or plan_change.credit_amount > 0 %}<p>Your next invoice charges <strong>{{ plan_change.charge_amount | money: plan_change.currency }}</strong> for the rest of this period and credits <strong>{{ plan_change.credit_amount | money: plan_change.currency }}</strong> for the unused part of {{ plan_change.from_plan_name }}.</p>{% endif %}`,
        ),
      },
      de: {
        subject:
          'Ihr Abonnement {% if plan_change.when == "now" %}läuft jetzt mit{% else %}wechselt zu{% endif %} {{ plan_change.to_plan_name }}',
        body: `${de.hello}

{% if plan_change.when == "now" %}Ihr Abonnement wechselte von {{ plan_change.from_plan_name }} zu {{ plan_change.to_plan_name }}: {{ plan_change.to_amount | money: plan_change.currency }} pro {{ plan_change.interval }}.
{% if plan_change.charge_amount > 0 or plan_change.credit_amount > 0 %}Ihre nächste Rechnung berechnet {{ plan_change.charge_amount | money: plan_change.currency }} für den Rest dieses Zeitraums mit {{ plan_change.to_plan_name }} und schreibt {{ plan_change.credit_amount | money: plan_change.currency }} für den ungenutzten Teil von {{ plan_change.from_plan_name }} gut.
{% endif %}{% else %}Ihr Abonnement wechselt am {{ plan_change.effective_at | localdate }} von {{ plan_change.from_plan_name }} zu {{ plan_change.to_plan_name }}: dann {{ plan_change.to_amount | money: plan_change.currency }} pro {{ plan_change.interval }}.
{% endif %}
${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Tarif gewechselt</h1>
<p>${de.hello}</p>
<p>{% if plan_change.when == "now" %}Ihr Abonnement wechselte von {{ plan_change.from_plan_name }} zu {{ plan_change.to_plan_name }}.{% else %}Ihr Abonnement wechselt am {{ plan_change.effective_at | localdate }} von {{ plan_change.from_plan_name }} zu {{ plan_change.to_plan_name }}.{% endif %}</p>
${htmlFacts([
  ['Neuer Tarif', '{{ plan_change.to_plan_name }}'],
  ['Preis', '{{ plan_change.to_amount | money: plan_change.currency }} / {{ plan_change.interval }}'],
  ['Gültig ab', '{{ plan_change.effective_at | localdate }}'],
])}
{% if plan_change.charge_amount > 0 or plan_change.credit_amount > 0 %}<p>Ihre nächste Rechnung berechnet <strong>{{ plan_change.charge_amount | money: plan_change.currency }}</strong> für den Rest dieses Zeitraums und schreibt <strong>{{ plan_change.credit_amount | money: plan_change.currency }}</strong> für den ungenutzten Teil von {{ plan_change.from_plan_name }} gut.</p>{% endif %}`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Plan change: ${who} from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }}`,
        body: '{{ customer.email }} changed from {{ plan_change.from_plan_name }} ({{ plan_change.from_amount | money: plan_change.currency }}) to {{ plan_change.to_plan_name }} ({{ plan_change.to_amount | money: plan_change.currency }}) per {{ plan_change.interval }}, {% if plan_change.when == "now" %}now; next invoice: +{{ plan_change.charge_amount | money: plan_change.currency }}, −{{ plan_change.credit_amount | money: plan_change.currency }}{% else %}from {{ plan_change.effective_at | localdate }}{% endif %}.',
      },
    },
    slack: {
      en: {
        body: `:arrows_counterclockwise: *Plan change* — ${who} from {{ plan_change.from_plan_name }} to {{ plan_change.to_plan_name }}{% if plan_change.when == "period_end" %} on {{ plan_change.effective_at | localdate: "medium" }}{% endif %}`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      subscription: {
        id: 'sub_01a2b3c4d5e6f7a8b9c0',
        plan_name: 'Business',
        amount: 9900,
        currency: 'EUR',
        interval: 'month',
        current_period_end: '2026-02-05',
      },
      plan_change: {
        id: 'pch_01a2b3c4d5e6f7a8b9c0',
        when: 'now',
        effective_at: '2026-01-20T10:00:00Z',
        from_plan_name: 'Pro',
        from_amount: 4900,
        to_plan_name: 'Business',
        to_amount: 9900,
        currency: 'EUR',
        interval: 'month',
        credit_amount: 2370,
        charge_amount: 4790,
      },
    },
  },
} satisfies EventNotifications;
