// The notification events this type sends, each with its shipped texts (the customer email in
// every shipped locale, the team's in-app/email and Slack texts) and its preview sample: the
// shape of the data the steps pass, which the template editor previews with.
import { htmlEmail, htmlFacts } from '../../../notify/index.ts';
import type { EventNotifications } from '../../../notify/index.ts';
import { SAMPLE_COMPANY, SAMPLE_CUSTOMER, de, en, who } from '../shared/notification-parts.ts';

// The invoice every event of the type is about, in the previews.
const SAMPLE_INVOICE = {
  id: 'inv_01a2b3c4d5e6f7a8b9c0',
  number: 'INV-2026-0042',
  total: 123456,
  currency: 'EUR',
  due_date: '2026-02-04',
};

export const invoiceCreationNotifications = {
  invoice_created: {
    email: {
      en: {
        subject:
          'Invoice {{ invoice.number }}: {{ invoice.total | money: invoice.currency }} due {{ invoice.due_date | localdate }}',
        body: `${en.hello}

your invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} is attached. It is due on {{ invoice.due_date | localdate }}.

${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Invoice {{ invoice.number }}</h1>
<p>${en.hello}</p>
${htmlFacts([
  ['Amount due', '{{ invoice.total | money: invoice.currency }}'],
  ['Due date', '{{ invoice.due_date | localdate }}'],
])}
<p>The invoice is attached as a PDF.</p>`,
        ),
      },
      de: {
        subject:
          'Rechnung {{ invoice.number }}: {{ invoice.total | money: invoice.currency }}, fällig am {{ invoice.due_date | localdate }}',
        body: `${de.hello}

anbei Ihre Rechnung {{ invoice.number }} über {{ invoice.total | money: invoice.currency }}. Sie ist am {{ invoice.due_date | localdate }} fällig.

${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Rechnung {{ invoice.number }}</h1>
<p>${de.hello}</p>
${htmlFacts([
  ['Betrag', '{{ invoice.total | money: invoice.currency }}'],
  ['Fällig am', '{{ invoice.due_date | localdate }}'],
])}
<p>Die Rechnung liegt als PDF bei.</p>`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Invoice {{ invoice.number }} for ${who}`,
        body: 'Invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} sent, due {{ invoice.due_date | localdate: "medium" }}.',
      },
    },
    slack: {
      en: {
        body: `:page_facing_up: *Invoice {{ invoice.number }}* — {{ invoice.total | money: invoice.currency }} to ${who}, due {{ invoice.due_date | localdate: "medium" }}`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      invoice: SAMPLE_INVOICE,
    },
  },
  invoice_overdue: {
    email: {
      en: {
        subject: 'Invoice {{ invoice.number }} is overdue',
        body: `${en.hello}

invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} was due on {{ invoice.due_date | localdate }} and is still open.
{% if grace_period_ends %}Please pay it by {{ grace_period_ends | localdate }} to keep your account active.
{% endif %}
${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Invoice {{ invoice.number }} is overdue</h1>
<p>${en.hello}</p>
<p>invoice {{ invoice.number }} of <strong>{{ invoice.total | money: invoice.currency }}</strong> was due on {{ invoice.due_date | localdate }} and is still open.</p>
{% if grace_period_ends %}<p>Please pay it by <strong>{{ grace_period_ends | localdate }}</strong> to keep your account active.</p>{% endif %}`,
        ),
      },
      de: {
        subject: 'Rechnung {{ invoice.number }} ist überfällig',
        body: `${de.hello}

die Rechnung {{ invoice.number }} über {{ invoice.total | money: invoice.currency }} war am {{ invoice.due_date | localdate }} fällig und ist noch offen.
{% if grace_period_ends %}Bitte begleichen Sie sie bis zum {{ grace_period_ends | localdate }}, damit Ihr Konto aktiv bleibt.
{% endif %}
${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Rechnung {{ invoice.number }} ist überfällig</h1>
<p>${de.hello}</p>
<p>die Rechnung {{ invoice.number }} über <strong>{{ invoice.total | money: invoice.currency }}</strong> war am {{ invoice.due_date | localdate }} fällig und ist noch offen.</p>
{% if grace_period_ends %}<p>Bitte begleichen Sie sie bis zum <strong>{{ grace_period_ends | localdate }}</strong>, damit Ihr Konto aktiv bleibt.</p>{% endif %}`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Overdue: invoice {{ invoice.number }} of ${who}`,
        body: 'Invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} was due {{ invoice.due_date | localdate: "medium" }}.{% if grace_period_ends %} Customer is disabled after {{ grace_period_ends | localdate: "medium" }}.{% endif %}',
      },
    },
    slack: {
      en: {
        body: `:hourglass: *Overdue* — invoice {{ invoice.number }} ({{ invoice.total | money: invoice.currency }}) of ${who}`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      invoice: SAMPLE_INVOICE,
      grace_period_ends: '2026-03-06',
    },
  },
  customer_disabled: {
    email: {
      en: {
        subject: 'Your account has been suspended',
        body: `${en.hello}

your account is suspended because invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} is unpaid. Pay it to restore access.

${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Your account has been suspended</h1>
<p>${en.hello}</p>
<p>your account is suspended because invoice {{ invoice.number }} of <strong>{{ invoice.total | money: invoice.currency }}</strong> is unpaid. Pay it to restore access.</p>`,
        ),
      },
      de: {
        subject: 'Ihr Konto wurde gesperrt',
        body: `${de.hello}

Ihr Konto wurde gesperrt, weil die Rechnung {{ invoice.number }} über {{ invoice.total | money: invoice.currency }} offen ist. Nach Zahlung wird es wieder freigeschaltet.

${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Ihr Konto wurde gesperrt</h1>
<p>${de.hello}</p>
<p>Ihr Konto wurde gesperrt, weil die Rechnung {{ invoice.number }} über <strong>{{ invoice.total | money: invoice.currency }}</strong> offen ist. Nach Zahlung wird es wieder freigeschaltet.</p>`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Customer disabled: ${who}`,
        body: '{{ customer.email }} was disabled: invoice {{ invoice.number }} of {{ invoice.total | money: invoice.currency }} is unpaid past the grace period.',
      },
    },
    slack: { en: { body: `:no_entry: *Customer disabled* — ${who}, invoice {{ invoice.number }} unpaid` } },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      invoice: SAMPLE_INVOICE,
    },
  },
} satisfies EventNotifications;
