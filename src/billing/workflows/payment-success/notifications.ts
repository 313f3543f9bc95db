// The notification events this type sends, each with its shipped texts (the customer email in
// every shipped locale, the team's in-app/email and Slack texts) and its preview sample: the
// shape of the data the steps pass, which the template editor previews with.
import { htmlEmail, htmlFacts } from '../../../notify/index.ts';
import type { EventNotifications } from '../../../notify/index.ts';
import { SAMPLE_COMPANY, SAMPLE_CUSTOMER, de, en, who } from '../shared/notification-parts.ts';

export const paymentSuccessNotifications = {
  payment_succeeded: {
    email: {
      en: {
        subject: 'Receipt {{ receipt.number }} for your payment of {{ payment.amount | money: payment.currency }}',
        body: `${en.hello}

thank you: we received your payment of {{ payment.amount | money: payment.currency }} on {{ payment.paid_at | localdate }}.
Your receipt {{ receipt.number }} is attached.

${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">Thank you for your payment</h1>
<p>${en.hello}</p>
${htmlFacts([
  ['Amount', '{{ payment.amount | money: payment.currency }}'],
  ['Date', '{{ payment.paid_at | localdate }}'],
  ['Receipt', '{{ receipt.number }}'],
])}
<p>Your receipt is attached as a PDF.</p>`,
        ),
      },
      de: {
        subject: 'Beleg {{ receipt.number }} für Ihre Zahlung über {{ payment.amount | money: payment.currency }}',
        body: `${de.hello}

vielen Dank: Ihre Zahlung über {{ payment.amount | money: payment.currency }} ist am {{ payment.paid_at | localdate }} eingegangen.
Ihr Beleg {{ receipt.number }} liegt bei.

${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Vielen Dank für Ihre Zahlung</h1>
<p>${de.hello}</p>
${htmlFacts([
  ['Betrag', '{{ payment.amount | money: payment.currency }}'],
  ['Datum', '{{ payment.paid_at | localdate }}'],
  ['Beleg', '{{ receipt.number }}'],
])}
<p>Der Beleg liegt als PDF bei.</p>`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Payment received: {{ payment.amount | money: payment.currency }} from ${who}`,
        body: 'Payment {{ payment.id }} of {{ payment.amount | money: payment.currency }} succeeded; receipt {{ receipt.number }}.',
      },
    },
    slack: {
      en: {
        body: `:white_check_mark: *Payment received* — {{ payment.amount | money: payment.currency }} from ${who}`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      payment: { id: 'pay_01a2b3c4d5e6f7a8b9c0', amount: 4900, currency: 'EUR', paid_at: '2026-01-05T10:00:00Z' },
      receipt: { number: 'RCT-2026-0001' },
    },
  },
} satisfies EventNotifications;
