// The notification events this type sends, each with its shipped texts (the customer email in
// every shipped locale, the team's in-app/email and Slack texts) and its preview sample: the
// shape of the data the steps pass, which the template editor previews with.
import { htmlEmail } from '../../../notify/index.ts';
import type { EventNotifications } from '../../../notify/index.ts';
import { SAMPLE_COMPANY, SAMPLE_CUSTOMER, de, en, who } from '../shared/notification-parts.ts';

export const refundCreationNotifications = {
  refund_created: {
    email: {
      en: {
        subject: 'Refund of {{ refund.amount | money: refund.currency }}',
        body: `${en.hello}

we have refunded {{ refund.amount | money: refund.currency }} to your payment method. It can take a few days to appear on your statement.

${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Your refund is on its way</h1>
<p>${en.hello}</p>
<p>we have refunded <strong>{{ refund.amount | money: refund.currency }}</strong> to your payment method. It can take a few days to appear on your statement.</p>`,
        ),
      },
      de: {
        subject: 'Erstattung über {{ refund.amount | money: refund.currency }}',
        body: `${de.hello}

wir haben {{ refund.amount | money: refund.currency }} auf Ihr Zahlungsmittel erstattet. Bis die Gutschrift erscheint, kann es einige Tage dauern.

${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Ihre Erstattung ist unterwegs</h1>
<p>${de.hello}</p>
<p>wir haben <strong>{{ refund.amount | money: refund.currency }}</strong> auf Ihr Zahlungsmittel erstattet. Bis die Gutschrift erscheint, kann es einige Tage dauern.</p>`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Refund: {{ refund.amount | money: refund.currency }} to ${who}`,
        body: 'Refund {{ refund.id }} of {{ refund.amount | money: refund.currency }}{% if refund.reason %} ({{ refund.reason }}){% endif %}.',
      },
    },
    slack: {
      en: {
        body: `:leftwards_arrow_with_hook: *Refund* — {{ refund.amount | money: refund.currency }} to ${who}`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      refund: { id: 're_01a2b3c4d5e6f7a8b9c0', amount: 1633, currency: 'EUR', reason: 'prorated cancellation' },
    },
  },
} satisfies EventNotifications;
