// The notification events this type sends, each with its shipped texts (the customer email in
// every shipped locale, the team's in-app/email and Slack texts) and its preview sample: the
// shape of the data the steps pass, which the template editor previews with.
import { htmlEmail } from '../../../notify/index.ts';
import type { EventNotifications } from '../../../notify/index.ts';
import { SAMPLE_COMPANY, SAMPLE_CUSTOMER, de, en, who } from '../shared/notification-parts.ts';

export const paymentFailureNotifications = {
  payment_failed: {
    email: {
      en: {
        subject: 'Your payment of {{ payment.amount | money: payment.currency }} did not go through',
        body: `${en.hello}

we could not charge {{ payment.amount | money: payment.currency }}{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}.
{% if next_retry_at %}We will try again on {{ next_retry_at | localdate }}. {% endif %}Please check that your payment method is up to date.

${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Your payment did not go through</h1>
<p>${en.hello}</p>
<p>we could not charge <strong>{{ payment.amount | money: payment.currency }}</strong>{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}.</p>
<p>{% if next_retry_at %}We will try again on {{ next_retry_at | localdate }}. {% endif %}Please check that your payment method is up to date.</p>`,
        ),
      },
      de: {
        subject: 'Ihre Zahlung über {{ payment.amount | money: payment.currency }} ist fehlgeschlagen',
        body: `${de.hello}

wir konnten {{ payment.amount | money: payment.currency }} nicht abbuchen{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}.
{% if next_retry_at %}Wir versuchen es am {{ next_retry_at | localdate }} erneut. {% endif %}Bitte prüfen Sie Ihr Zahlungsmittel.

${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Ihre Zahlung ist fehlgeschlagen</h1>
<p>${de.hello}</p>
<p>wir konnten <strong>{{ payment.amount | money: payment.currency }}</strong> nicht abbuchen{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}.</p>
<p>{% if next_retry_at %}Wir versuchen es am {{ next_retry_at | localdate }} erneut. {% endif %}Bitte prüfen Sie Ihr Zahlungsmittel.</p>`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Payment failed: {{ payment.amount | money: payment.currency }} from ${who}`,
        body: 'Payment {{ payment.id }} failed{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}.{% if next_retry_at %} Next retry {{ next_retry_at | localdate: "medium" }}.{% endif %}',
      },
    },
    slack: {
      en: {
        body: `:warning: *Payment failed* — {{ payment.amount | money: payment.currency }} from ${who}{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      payment: { id: 'pay_01a2b3c4d5e6f7a8b9c0', amount: 4900, currency: 'EUR', failure_reason: 'insufficient funds' },
      next_retry_at: '2026-01-06T10:00:00Z',
    },
  },
  payment_recovered: {
    email: {
      en: {
        subject: 'Your payment of {{ payment.amount | money: payment.currency }} went through',
        body: `${en.hello}

good news: your payment of {{ payment.amount | money: payment.currency }} went through on {{ payment.paid_at | localdate }}. Nothing else to do.

${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Your payment went through</h1>
<p>${en.hello}</p>
<p>good news: your payment of <strong>{{ payment.amount | money: payment.currency }}</strong> went through on {{ payment.paid_at | localdate }}. Nothing else to do.</p>`,
        ),
      },
      de: {
        subject: 'Ihre Zahlung über {{ payment.amount | money: payment.currency }} ist eingegangen',
        body: `${de.hello}

Ihre Zahlung über {{ payment.amount | money: payment.currency }} ist am {{ payment.paid_at | localdate }} eingegangen. Sie müssen nichts weiter tun.

${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Ihre Zahlung ist eingegangen</h1>
<p>${de.hello}</p>
<p>Ihre Zahlung über <strong>{{ payment.amount | money: payment.currency }}</strong> ist am {{ payment.paid_at | localdate }} eingegangen. Sie müssen nichts weiter tun.</p>`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Payment recovered: {{ payment.amount | money: payment.currency }} from ${who}`,
        body: 'Payment {{ payment.id }} succeeded on retry{% if attempts %} after {{ attempts }} attempts{% endif %}.',
      },
    },
    slack: {
      en: {
        body: `:repeat: *Payment recovered* — {{ payment.amount | money: payment.currency }} from ${who}`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      payment: { id: 'pay_01a2b3c4d5e6f7a8b9c0', amount: 4900, currency: 'EUR', paid_at: '2026-01-08T10:00:00Z' },
      attempts: 2,
    },
  },
} satisfies EventNotifications;
