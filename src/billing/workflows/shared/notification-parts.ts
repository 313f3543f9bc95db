// What the shipped notification texts and preview samples of every type share.

/** The greeting and sign-off of the English customer emails. */
export const en = {
  hello: 'Hello {{ customer.name | default: "there" }},',
  signoff: '— {{ company.name }}',
};

/** The greeting and sign-off of the German customer emails. */
export const de = {
  hello: 'Guten Tag{% if customer.name %} {{ customer.name }}{% endif %},',
  signoff: 'Ihr Team von {{ company.name }}',
};

/** The customer as the team's texts name them. */
export const who = '{{ customer.name | default: customer.email }}';

/** The sender in the preview samples (a real message has the configured company). */
export const SAMPLE_COMPANY = { name: 'Acme Cloud', support_email: 'support@acme.example' };

/** The customer in the preview samples. */
export const SAMPLE_CUSTOMER = { id: 'cus_01a2b3c4d5e6f7a8b9c0', name: 'Ada Lovelace', email: 'ada@example.com' };

/** A subscription in the previews, as the subscription events' data has it (each adds its dates). */
export const SAMPLE_SUBSCRIPTION = {
  id: 'sub_01a2b3c4d5e6f7a8b9c0',
  plan_name: 'Pro',
  amount: 4900,
  currency: 'EUR',
  interval: 'month',
};
