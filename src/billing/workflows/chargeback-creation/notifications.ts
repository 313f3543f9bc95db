// The notification events this type sends, each with its shipped texts (the customer email in
// every shipped locale, the team's in-app/email and Slack texts) and its preview sample: the
// shape of the data the steps pass, which the template editor previews with.
import { htmlEmail } from '../../../notify/index.ts';
import type { EventNotifications } from '../../../notify/index.ts';
import { SAMPLE_COMPANY, SAMPLE_CUSTOMER, de, en, who } from '../shared/notification-parts.ts';

export const chargebackCreationNotifications = {
  chargeback_created: {
    email: {
      en: {
        subject: 'A dispute was opened for {{ chargeback.amount | money: chargeback.currency }}',
        body: `${en.hello}

your bank told us that you disputed a payment of {{ chargeback.amount | money: chargeback.currency }}. If this was a mistake, please reply to this email so we can sort it out.

${en.signoff}`,
        html: htmlEmail(
          'en',
          `<h1 style="font-size:20px">A payment was disputed</h1>
<p>${en.hello}</p>
<p>your bank told us that you disputed a payment of <strong>{{ chargeback.amount | money: chargeback.currency }}</strong>. If this was a mistake, please reply to this email so we can sort it out.</p>`,
        ),
      },
      de: {
        subject: 'Eine Zahlung über {{ chargeback.amount | money: chargeback.currency }} wurde angefochten',
        body: `${de.hello}

Ihre Bank hat uns mitgeteilt, dass Sie eine Zahlung über {{ chargeback.amount | money: chargeback.currency }} angefochten haben. Falls das ein Versehen war, antworten Sie bitte auf diese E-Mail.

${de.signoff}`,
        html: htmlEmail(
          'de',
          `<h1 style="font-size:20px">Eine Zahlung wurde angefochten</h1>
<p>${de.hello}</p>
<p>Ihre Bank hat uns mitgeteilt, dass Sie eine Zahlung über <strong>{{ chargeback.amount | money: chargeback.currency }}</strong> angefochten haben. Falls das ein Versehen war, antworten Sie bitte auf diese E-Mail.</p>`,
        ),
      },
    },
    internal: {
      en: {
        subject: `Chargeback: {{ chargeback.amount | money: chargeback.currency }} from ${who}`,
        body: 'Chargeback {{ chargeback.id }} of {{ chargeback.amount | money: chargeback.currency }}{% if chargeback.reason %} ({{ chargeback.reason }}){% endif %}. Respond in the payment provider before the deadline.',
      },
    },
    slack: {
      en: {
        body: `:rotating_light: *Chargeback* — {{ chargeback.amount | money: chargeback.currency }} from ${who}{% if chargeback.reason %} ({{ chargeback.reason }}){% endif %}`,
      },
    },
    sample: {
      company: SAMPLE_COMPANY,
      customer: SAMPLE_CUSTOMER,
      chargeback: { id: 'cb_01a2b3c4d5e6f7a8b9c0', amount: 4900, currency: 'EUR', reason: 'fraudulent' },
    },
  },
} satisfies EventNotifications;
