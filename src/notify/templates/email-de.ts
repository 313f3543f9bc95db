import type { CustomerEvent } from './types.ts';
import type { TemplateSource } from '../liquid.ts';
import { htmlEmail, htmlFacts } from './layout.ts';

const hello = 'Guten Tag{% if customer.name %} {{ customer.name }}{% endif %},';
const signoff = 'Ihr Team von {{ company.name }}';

/** The German customer emails. */
export const EMAIL_DE: Record<CustomerEvent, TemplateSource> = {
  subscription_created: {
    subject: 'Willkommen bei {{ subscription.plan_name }}',
    body: `${hello}

Ihr Abonnement {{ subscription.plan_name }} ist aktiv: {{ subscription.amount | money: subscription.currency }} pro {% case subscription.interval %}{% when "week" %}Woche{% when "year" %}Jahr{% else %}Monat{% endcase %}.
Der aktuelle Zeitraum endet am {{ subscription.current_period_end | localdate }}.

${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Willkommen bei {{ subscription.plan_name }}</h1>
<p>${hello}</p>
<p>Ihr Abonnement ist aktiv.</p>
${htmlFacts([
  ['Tarif', '{{ subscription.plan_name }}'],
  ['Preis', '{{ subscription.amount | money: subscription.currency }}'],
  ['Zeitraum endet am', '{{ subscription.current_period_end | localdate }}'],
])}`,
    ),
  },
  subscription_cancelled: {
    subject: 'Ihr Abonnement {{ subscription.plan_name }} ist gekündigt',
    body: `${hello}

Ihr Abonnement {{ subscription.plan_name }} ist gekündigt{% if subscription.ends_at %} und endet am {{ subscription.ends_at | localdate }}{% endif %}.
{% if refund %}Wir erstatten {{ refund.amount | money: refund.currency }} auf Ihr Zahlungsmittel.
{% endif %}
${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Abonnement gekündigt</h1>
<p>${hello}</p>
<p>Ihr Abonnement {{ subscription.plan_name }} ist gekündigt{% if subscription.ends_at %} und endet am {{ subscription.ends_at | localdate }}{% endif %}.</p>
{% if refund %}<p>Wir erstatten <strong>{{ refund.amount | money: refund.currency }}</strong> auf Ihr Zahlungsmittel.</p>{% endif %}`,
    ),
  },
  subscription_plan_changed: {
    subject:
      'Ihr Abonnement {% if plan_change.when == "now" %}läuft jetzt mit{% else %}wechselt zu{% endif %} {{ plan_change.to_plan_name }}',
    body: `${hello}

{% if plan_change.when == "now" %}Ihr Abonnement wechselte von {{ plan_change.from_plan_name }} zu {{ plan_change.to_plan_name }}: {{ plan_change.to_amount | money: plan_change.currency }} pro {{ plan_change.interval }}.
{% if plan_change.charge_amount > 0 or plan_change.credit_amount > 0 %}Ihre nächste Rechnung berechnet {{ plan_change.charge_amount | money: plan_change.currency }} für den Rest dieses Zeitraums mit {{ plan_change.to_plan_name }} und schreibt {{ plan_change.credit_amount | money: plan_change.currency }} für den ungenutzten Teil von {{ plan_change.from_plan_name }} gut.
{% endif %}{% else %}Ihr Abonnement wechselt am {{ plan_change.effective_at | localdate }} von {{ plan_change.from_plan_name }} zu {{ plan_change.to_plan_name }}: dann {{ plan_change.to_amount | money: plan_change.currency }} pro {{ plan_change.interval }}.
{% endif %}
${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Tarif gewechselt</h1>
<p>${hello}</p>
<p>{% if plan_change.when == "now" %}Ihr Abonnement wechselte von {{ plan_change.from_plan_name }} zu {{ plan_change.to_plan_name }}.{% else %}Ihr Abonnement wechselt am {{ plan_change.effective_at | localdate }} von {{ plan_change.from_plan_name }} zu {{ plan_change.to_plan_name }}.{% endif %}</p>
${htmlFacts([
  ['Neuer Tarif', '{{ plan_change.to_plan_name }}'],
  ['Preis', '{{ plan_change.to_amount | money: plan_change.currency }} / {{ plan_change.interval }}'],
  ['Gültig ab', '{{ plan_change.effective_at | localdate }}'],
])}
{% if plan_change.charge_amount > 0 or plan_change.credit_amount > 0 %}<p>Ihre nächste Rechnung berechnet <strong>{{ plan_change.charge_amount | money: plan_change.currency }}</strong> für den Rest dieses Zeitraums und schreibt <strong>{{ plan_change.credit_amount | money: plan_change.currency }}</strong> für den ungenutzten Teil von {{ plan_change.from_plan_name }} gut.</p>{% endif %}`,
    ),
  },
  trial_ending: {
    subject: 'Ihre Testphase für {{ subscription.plan_name }} endet am {{ subscription.trial_end | localdate }}',
    body: `${hello}

Ihre Testphase für {{ subscription.plan_name }} endet am {{ subscription.trial_end | localdate }}.
{% if subscription.collection_method == "send_invoice" %}Danach senden wir Ihnen eine Rechnung über {{ subscription.amount | money: subscription.currency }} pro {{ subscription.interval }}.{% else %}Danach belasten wir Ihr hinterlegtes Zahlungsmittel mit {{ subscription.amount | money: subscription.currency }} pro {{ subscription.interval }}.{% endif %}
Wenn Sie das Abonnement behalten möchten, ist nichts zu tun; andernfalls kündigen Sie bitte vor diesem Datum.

${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Ihre Testphase endet bald</h1>
<p>${hello}</p>
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
  payment_succeeded: {
    subject: 'Beleg {{ receipt.number }} für Ihre Zahlung über {{ payment.amount | money: payment.currency }}',
    body: `${hello}

vielen Dank: Ihre Zahlung über {{ payment.amount | money: payment.currency }} ist am {{ payment.paid_at | localdate }} eingegangen.
Ihr Beleg {{ receipt.number }} liegt bei.

${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Vielen Dank für Ihre Zahlung</h1>
<p>${hello}</p>
${htmlFacts([
  ['Betrag', '{{ payment.amount | money: payment.currency }}'],
  ['Datum', '{{ payment.paid_at | localdate }}'],
  ['Beleg', '{{ receipt.number }}'],
])}
<p>Der Beleg liegt als PDF bei.</p>`,
    ),
  },
  payment_failed: {
    subject: 'Ihre Zahlung über {{ payment.amount | money: payment.currency }} ist fehlgeschlagen',
    body: `${hello}

wir konnten {{ payment.amount | money: payment.currency }} nicht abbuchen{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}.
{% if next_retry_at %}Wir versuchen es am {{ next_retry_at | localdate }} erneut. {% endif %}Bitte prüfen Sie Ihr Zahlungsmittel.

${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Ihre Zahlung ist fehlgeschlagen</h1>
<p>${hello}</p>
<p>wir konnten <strong>{{ payment.amount | money: payment.currency }}</strong> nicht abbuchen{% if payment.failure_reason %} ({{ payment.failure_reason }}){% endif %}.</p>
<p>{% if next_retry_at %}Wir versuchen es am {{ next_retry_at | localdate }} erneut. {% endif %}Bitte prüfen Sie Ihr Zahlungsmittel.</p>`,
    ),
  },
  payment_recovered: {
    subject: 'Ihre Zahlung über {{ payment.amount | money: payment.currency }} ist eingegangen',
    body: `${hello}

Ihre Zahlung über {{ payment.amount | money: payment.currency }} ist am {{ payment.paid_at | localdate }} eingegangen. Sie müssen nichts weiter tun.

${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Ihre Zahlung ist eingegangen</h1>
<p>${hello}</p>
<p>Ihre Zahlung über <strong>{{ payment.amount | money: payment.currency }}</strong> ist am {{ payment.paid_at | localdate }} eingegangen. Sie müssen nichts weiter tun.</p>`,
    ),
  },
  invoice_created: {
    subject:
      'Rechnung {{ invoice.number }}: {{ invoice.total | money: invoice.currency }}, fällig am {{ invoice.due_date | localdate }}',
    body: `${hello}

anbei Ihre Rechnung {{ invoice.number }} über {{ invoice.total | money: invoice.currency }}. Sie ist am {{ invoice.due_date | localdate }} fällig.

${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Rechnung {{ invoice.number }}</h1>
<p>${hello}</p>
${htmlFacts([
  ['Betrag', '{{ invoice.total | money: invoice.currency }}'],
  ['Fällig am', '{{ invoice.due_date | localdate }}'],
])}
<p>Die Rechnung liegt als PDF bei.</p>`,
    ),
  },
  invoice_overdue: {
    subject: 'Rechnung {{ invoice.number }} ist überfällig',
    body: `${hello}

die Rechnung {{ invoice.number }} über {{ invoice.total | money: invoice.currency }} war am {{ invoice.due_date | localdate }} fällig und ist noch offen.
{% if grace_period_ends %}Bitte begleichen Sie sie bis zum {{ grace_period_ends | localdate }}, damit Ihr Konto aktiv bleibt.
{% endif %}
${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Rechnung {{ invoice.number }} ist überfällig</h1>
<p>${hello}</p>
<p>die Rechnung {{ invoice.number }} über <strong>{{ invoice.total | money: invoice.currency }}</strong> war am {{ invoice.due_date | localdate }} fällig und ist noch offen.</p>
{% if grace_period_ends %}<p>Bitte begleichen Sie sie bis zum <strong>{{ grace_period_ends | localdate }}</strong>, damit Ihr Konto aktiv bleibt.</p>{% endif %}`,
    ),
  },
  refund_created: {
    subject: 'Erstattung über {{ refund.amount | money: refund.currency }}',
    body: `${hello}

wir haben {{ refund.amount | money: refund.currency }} auf Ihr Zahlungsmittel erstattet. Bis die Gutschrift erscheint, kann es einige Tage dauern.

${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Ihre Erstattung ist unterwegs</h1>
<p>${hello}</p>
<p>wir haben <strong>{{ refund.amount | money: refund.currency }}</strong> auf Ihr Zahlungsmittel erstattet. Bis die Gutschrift erscheint, kann es einige Tage dauern.</p>`,
    ),
  },
  chargeback_created: {
    subject: 'Eine Zahlung über {{ chargeback.amount | money: chargeback.currency }} wurde angefochten',
    body: `${hello}

Ihre Bank hat uns mitgeteilt, dass Sie eine Zahlung über {{ chargeback.amount | money: chargeback.currency }} angefochten haben. Falls das ein Versehen war, antworten Sie bitte auf diese E-Mail.

${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Eine Zahlung wurde angefochten</h1>
<p>${hello}</p>
<p>Ihre Bank hat uns mitgeteilt, dass Sie eine Zahlung über <strong>{{ chargeback.amount | money: chargeback.currency }}</strong> angefochten haben. Falls das ein Versehen war, antworten Sie bitte auf diese E-Mail.</p>`,
    ),
  },
  customer_disabled: {
    subject: 'Ihr Konto wurde gesperrt',
    body: `${hello}

Ihr Konto wurde gesperrt, weil die Rechnung {{ invoice.number }} über {{ invoice.total | money: invoice.currency }} offen ist. Nach Zahlung wird es wieder freigeschaltet.

${signoff}`,
    html: htmlEmail(
      'de',
      `<h1 style="font-size:20px">Ihr Konto wurde gesperrt</h1>
<p>${hello}</p>
<p>Ihr Konto wurde gesperrt, weil die Rechnung {{ invoice.number }} über <strong>{{ invoice.total | money: invoice.currency }}</strong> offen ist. Nach Zahlung wird es wieder freigeschaltet.</p>`,
    ),
  },
};
