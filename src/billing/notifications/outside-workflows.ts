// Notification events billing sends outside its workflow types: the calendar's reminder that a
// trial ends, and the daily reconciliation's finding. Each with its shipped texts and preview sample.
import { htmlEmail, htmlFacts } from '../../notify/index.ts';
import type { EventNotifications } from '../../notify/index.ts';
import {
  SAMPLE_COMPANY,
  SAMPLE_CUSTOMER,
  SAMPLE_SUBSCRIPTION,
  de,
  en,
  who,
} from '../workflows/shared/notification-parts.ts';

export const OUTSIDE_WORKFLOW_NOTIFICATIONS = {
  trial_ending: {
    email: {
      en: {
        subject: 'Your {{ subscription.plan_name }} trial ends on {{ subscription.trial_end | localdate }}',
        body: `${en.hello}

your {{ subscription.plan_name }} trial ends on {{ subscription.trial_end | localdate }}.
{% if subscription.collection_method == "send_invoice" %}We will then send you an invoice of {{ subscription.amount | money: subscription.currency }} per {{ subscription.interval }}.{% else %}We will then charge {{ subscription.amount | money: subscription.currency }} per {{ subscription.interval }} to your payment method on file.{% endif %}
Nothing to do if you want to keep it; to stop, cancel before that date.

${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Your trial ends soon</h1>
<p>${en.hello}</p>
<p>your {{ subscription.plan_name }} trial ends on <strong>{{ subscription.trial_end | localdate }}</strong>.</p>
${htmlFacts([
  ['Plan', '{{ subscription.plan_name }}'],
  ['Price after the trial', '{{ subscription.amount | money: subscription.currency }} / {{ subscription.interval }}'],
  ['Trial ends', '{{ subscription.trial_end | localdate }}'],
])}
<p>Nothing to do if you want to keep it; to stop, cancel before that date.</p>`,
        ),
      },
      de: {
        subject: 'Ihre Testphase für {{ subscription.plan_name }} endet am {{ subscription.trial_end | localdate }}',
        body: `${de.hello}

Ihre Testphase für {{ subscription.plan_name }} endet am {{ subscription.trial_end | localdate }}.
{% if subscription.collection_method == "send_invoice" %}Danach senden wir Ihnen eine Rechnung über {{ subscription.amount | money: subscription.currency }} pro {{ subscription.interval }}.{% else %}Danach belasten wir Ihr hinterlegtes Zahlungsmittel mit {{ subscription.amount | money: subscription.currency }} pro {{ subscription.interval }}.{% endif %}
Wenn Sie das Abonnement behalten möchten, ist nichts zu tun; andernfalls kündigen Sie bitte vor diesem Datum.

${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Ihre Testphase endet bald</h1>
<p>${de.hello}</p>
<p>Ihre Testphase für {{ subscription.plan_name }} endet am <strong>{{ subscription.trial_end | localdate }}</strong>.</p>
${htmlFacts([
  ['Tarif', '{{ subscription.plan_name }}'],
  [
    'Preis nach der Testphase',
    '{{ subscription.amount | money: subscription.currency }} / {{ subscription.interval }}',
  ],
  ['Testphase endet', '{{ subscription.trial_end | localdate }}'],
])}
<p>Wenn Sie das Abonnement behalten möchten, ist nichts zu tun; andernfalls kündigen Sie bitte vor diesem Datum.</p>`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Trial ending: ${who} on {{ subscription.plan_name }}`,
        body: '{{ customer.email }}\'s {{ subscription.plan_name }} trial ends {{ subscription.trial_end | localdate: "medium" }}; then {{ subscription.amount | money: subscription.currency }} per {{ subscription.interval }}.',
      },
    },
    slack: {
      en: {
        body: `:hourglass_flowing_sand: *Trial ending* — ${who} on {{ subscription.plan_name }}, ends {{ subscription.trial_end | localdate: "medium" }}`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      subscription: {
        ...SAMPLE_SUBSCRIPTION,
        trial_end: '2026-01-19T10:00:00Z',
        collection_method: 'charge_automatically',
      },
    },
  },
  reconciliation_failed: {
    internal: {
      en: {
        subject: 'Reconciliation: {{ finding_count }} finding{% if finding_count != 1 %}s{% endif %}',
        body: `The daily check found what may be lost or counted twice:
{% for c in checks %}- {{ c.title }}: {{ c.finding_count }}
{% endfor %}{% if url %}{{ url }}{% endif %}`,
      },
    },
    slack: {
      en: {
        body: `:mag: *Reconciliation: {{ finding_count }} finding{% if finding_count != 1 %}s{% endif %}*
{% for c in checks %}• {{ c.title }}: {{ c.finding_count }}
{% endfor %}{% if url %}<{{ url }}|Open the report>{% endif %}`,
      },
    },
    sample: {
      finding_count: 2,
      checks: [
        { name: 'records_have_runs', title: 'Every billing record has its run', finding_count: 1 },
        { name: 'stats_match_recount', title: 'The statistics equal a recount of the records', finding_count: 1 },
      ],
      url: 'https://billflow.example.com/reconciliation',
    },
    // Always raised in the in-app feed; the team's channels follow run_failed's settings.
    settings: false,
  },
} satisfies EventNotifications;
