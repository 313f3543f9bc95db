import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../src/errors.ts';
import {
  getTemplate,
  listTemplates,
  NOTIFICATION_EVENTS,
  renderTemplate,
  sampleData,
  saveTemplateOverride,
  shippedLocales,
  shippedTemplate,
} from '../../src/billing/notifications/index.ts';
import { TEMPLATE_CHANNELS, deleteTemplateOverride, previewTemplate } from '../../src/notify/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { sharedDatabase } from './support/db.ts';

function fieldsOf(error: unknown): string[] {
  assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${String(error)}`);
  return error.errors.map((e) => e.field);
}

test('every shipped template renders its sample data, with no empty subject or body', async () => {
  let count = 0;
  for (const channel of TEMPLATE_CHANNELS) {
    for (const locale of shippedLocales(channel)) {
      for (const item of shipped(channel, locale)) {
        const rendered = await previewTemplate(item.source, sampleData(item.event), { channel, locale });
        if (channel !== 'slack') assert.ok(rendered.subject.length > 0, `${item.event}/${channel}/${locale} subject`);
        assert.ok(rendered.body.length > 0, `${item.event}/${channel}/${locale} body`);
        assert.doesNotMatch(rendered.body, /\{\{|\{%/, 'no unrendered Liquid');
        // The sample data is the contract: a shipped template uses no variable it lacks.
        assert.deepEqual(rendered.warnings, [], `${item.event}/${channel}/${locale} variables`);
        if (item.source.html) assert.match(String(rendered.html), /<\/html>/);
        count += 1;
      }
    }
  }
  assert.ok(count >= 10 * 2 + 12 * 2, `rendered ${count} templates`);
});

function shipped(channel: (typeof TEMPLATE_CHANNELS)[number], locale: string) {
  return NOTIFICATION_EVENTS.flatMap((event) => {
    const source = shippedTemplate(event, channel, locale);
    return source ? [{ event, source }] : [];
  });
}

test('strict where it matters: unknown variables render empty, syntax errors name their field', async () => {
  const rendered = await previewTemplate({ subject: 'Hi {{ customer.nickname }}!', body: 'x{{ nothing.here }}y' }, {});
  assert.equal(rendered.subject, 'Hi !');
  assert.equal(rendered.body, 'xy');
  assert.deepEqual(
    rendered.warnings.map((w) => [w.field, w.variable]),
    [
      ['subject', 'customer'],
      ['body', 'nothing'],
    ],
  );
  await assert.rejects(previewTemplate({ subject: 'Hi {{ customer.name', body: 'ok' }, {}), (e) => {
    assert.deepEqual(fieldsOf(e), ['subject']);
    return true;
  });
  await assert.rejects(
    previewTemplate({ subject: 'ok', body: '{% if %}', html: '<p>{{ x | nosuchfilter }}</p>' }, {}),
    (e) => {
      assert.deepEqual(fieldsOf(e), ['body', 'html']);
      return true;
    },
  );
});

test('sandboxed: templates cannot include or render files', async () => {
  for (const body of ['{% include "/etc/passwd" %}', '{% render "secrets" %}', '{% layout "x" %}']) {
    await assert.rejects(previewTemplate({ subject: 's', body }, {}), (e) => {
      assert.deepEqual(fieldsOf(e), ['body']);
      assert.match((e as Error).message, /not available in notification templates/);
      return true;
    });
  }
});

// Sends share parsed templates and Liquids (src/notify/liquid.ts): the parse limit still applies
// to each text alone, renders keep apart, and an edited text is parsed anew.
test('parsed templates are shared: limits hold per text, renders keep apart', async () => {
  const long = 'x'.repeat(60_000);
  for (let i = 0; i < 3; i++) assert.equal((await previewTemplate({ subject: 's', body: long }, {})).body, long);
  await assert.rejects(previewTemplate({ subject: 's', body: 'y'.repeat(100_001) }, {}), (e) => {
    assert.deepEqual(fieldsOf(e), ['body']);
    assert.match((e as Error).message, /parse length limit exceeded/);
    return true;
  });
  const body = 'Hello {{ customer.name }}, {{ amount | money: "EUR" }}';
  const rendered = await Promise.all(
    ['Ada', 'Grace', 'Edsger'].map((name, i) =>
      previewTemplate({ subject: 'Hi {{ customer.name }}', body }, { customer: { name }, amount: 100 * (i + 1) }),
    ),
  );
  assert.deepEqual(
    rendered.map((r) => [r.subject, r.body]),
    [
      ['Hi Ada', 'Hello Ada, €1.00'],
      ['Hi Grace', 'Hello Grace, €2.00'],
      ['Hi Edsger', 'Hello Edsger, €3.00'],
    ],
  );
  const edited = await previewTemplate(
    { subject: 'Hi', body: body.replace('Hello', 'Bye') },
    { customer: { name: 'Ada' }, amount: 1 },
  );
  assert.equal(edited.body, 'Bye Ada, €0.01');
});

test('customer data is escaped in HTML and Slack, left as is in plain text', async () => {
  const data = { customer: { name: '<script>x</script> & <!channel>' } };
  const email = await previewTemplate(
    { subject: 'To {{ customer.name }}', body: '{{ customer.name }}', html: '<b>{{ customer.name }}</b>' },
    data,
  );
  assert.equal(email.body, '<script>x</script> & <!channel>');
  assert.equal(email.html, '<b>&lt;script&gt;x&lt;/script&gt; &amp; &lt;!channel&gt;</b>');
  const slack = await previewTemplate({ body: '*{{ customer.name }}*' }, data, { channel: 'slack' });
  assert.equal(slack.body, '*&lt;script&gt;x&lt;/script&gt; &amp; &lt;!channel&gt;*');
});

test('money and dates follow the locale; JPY has no minor digits', async () => {
  const source = { subject: '{{ a | money: "EUR" }} / {{ b | money: "JPY" }}', body: '{{ d | localdate }}' };
  const data = { a: 123456, b: 1999, d: '2026-02-04' };
  const { subject, body, html } = await previewTemplate(source, data, { locale: 'en' });
  assert.deepEqual({ subject, body, html }, { subject: '€1,234.56 / ¥1,999', body: 'February 4, 2026', html: null });
  const de = await previewTemplate(source, data, { locale: 'de' });
  assert.equal(de.subject, '1.234,56 € / 1.999 ¥');
  assert.equal(de.body, '4. Februar 2026');
});

eachDatabase((kind) => {
  const database = sharedDatabase(kind);

  test('locale fallback: de-AT → de, fr → en; the default is used without an override', async () => {
    const db = await database();
    const data = sampleData('payment_succeeded');
    const at = await renderTemplate(db, { event: 'payment_succeeded', channel: 'email', locale: 'de-AT', data });
    assert.equal(at.locale, 'de');
    assert.equal(at.source, 'default');
    // German text, Austrian number format (the customer's own locale).
    assert.equal(at.subject, 'Beleg RCT-2026-0001 für Ihre Zahlung über € 49,00');
    const fr = await renderTemplate(db, { event: 'payment_succeeded', channel: 'email', locale: 'fr', data });
    assert.equal(fr.locale, 'en');
    assert.equal(fr.subject, 'Receipt RCT-2026-0001 for your payment of €49.00');
    const none = await renderTemplate(db, { event: 'payment_succeeded', channel: 'email', data });
    assert.equal(none.locale, 'en');
  });

  test('an override replaces its own locale only; deleting it restores the default', async () => {
    const db = await database();
    const data = sampleData('refund_created');
    const saved = await saveTemplateOverride(db, {
      event: 'refund_created',
      channel: 'email',
      locale: 'en',
      subject: 'Money back: {{ refund.amount | money: refund.currency }}',
      body: 'Refund {{ refund.id }}',
      actor: 'ops@acme.example',
    });
    assert.equal(saved.is_override, true);
    assert.ok(saved.default?.subject?.includes('Refund of'));
    const en = await renderTemplate(db, { event: 'refund_created', channel: 'email', locale: 'en-GB', data });
    assert.deepEqual(
      [en.source, en.subject, en.body, en.html],
      ['override', 'Money back: €16.33', 'Refund re_01a2b3c4d5e6f7a8b9c0', null],
    );
    const fr = await renderTemplate(db, { event: 'refund_created', channel: 'email', locale: 'fr', data });
    assert.equal(fr.source, 'override', 'French falls back to English, which is now the override');
    const de = await renderTemplate(db, { event: 'refund_created', channel: 'email', locale: 'de', data });
    assert.equal(de.source, 'default', 'the shipped German text still applies');

    await saveTemplateOverride(db, {
      event: 'refund_created',
      channel: 'email',
      locale: 'fr',
      subject: 'Remboursement',
      body: 'Bonjour',
    });
    const fr2 = await renderTemplate(db, { event: 'refund_created', channel: 'email', locale: 'fr-CA', data });
    assert.deepEqual([fr2.locale, fr2.subject], ['fr', 'Remboursement']);
    assert.ok((await listTemplates(db)).some((t) => t.locale === 'fr' && t.is_override && !t.has_default));

    assert.equal(await deleteTemplateOverride(db, { event: 'refund_created', channel: 'email', locale: 'en' }), true);
    const back = await renderTemplate(db, { event: 'refund_created', channel: 'email', locale: 'en', data });
    assert.equal(back.source, 'default');
    const view = await getTemplate(db, { event: 'refund_created', channel: 'email', locale: 'en' });
    assert.equal(view.is_override, false);
  });

  test('saving checks the syntax and the shape, and names every bad field', async () => {
    const db = await database();
    await assert.rejects(
      saveTemplateOverride(db, {
        event: 'payment_failed',
        channel: 'email',
        locale: 'en',
        subject: '{{ oops',
        body: '{% for %}',
      }),
      (e) => {
        assert.deepEqual(fieldsOf(e), ['subject', 'body']);
        return true;
      },
    );
    await assert.rejects(
      saveTemplateOverride(db, {
        event: 'nope' as 'payment_failed',
        channel: 'slack',
        locale: 'x_y',
        subject: 'no',
        body: '',
        html: '<p>',
      }),
      (e) => {
        assert.deepEqual(fieldsOf(e), ['event', 'locale', 'subject', 'body', 'html']);
        return true;
      },
    );
    const view = await getTemplate(db, { event: 'payment_failed', channel: 'email', locale: 'en' });
    assert.equal(view.is_override, false, 'nothing was saved');
  });
});

test('the preview names the undefined variable and lists what the data offers', async () => {
  const data = sampleData('payment_failed');
  const rendered = await previewTemplate(
    {
      subject: '{{ customer.nme }}',
      body: '{% if customer.vat_id %}{{ customer.vat_id }}{% endif %}{{ payment.memo | default: "-" }}',
      html: '{% for a in customer.tags %}{{ a }}{% endfor %}<p>{{ payment.amount | money: payment.currency }}</p>',
    },
    data,
  );
  // An optional value tested by `if` or given a `default` is no mistake; a misspelling, or a
  // loop over a list the data lacks, is.
  assert.deepEqual(rendered.warnings, [
    { field: 'subject', variable: 'customer.nme', message: 'undefined variable: customer.nme, line:1, col:4' },
    { field: 'html', variable: 'customer.tags', message: 'undefined variable: customer.tags, line:1, col:13' },
  ]);
  assert.equal(rendered.subject, '');
  const names = rendered.variables.map((v) => v.name);
  assert.deepEqual(names, [
    'company.name',
    'company.support_email',
    'customer.id',
    'customer.name',
    'customer.email',
    'payment.id',
    'payment.amount',
    'payment.currency',
    'payment.failure_reason',
    'next_retry_at',
  ]);
  assert.deepEqual(
    rendered.variables.find((v) => v.name === 'payment.amount'),
    { name: 'payment.amount', example: '4900' },
  );
  const digest = await previewTemplate(
    { body: '{% for a in alerts %}{{ a.step }}{% endfor %}' },
    sampleData('alert_digest'),
  );
  assert.deepEqual(digest.warnings, []);
  assert.ok(digest.variables.some((v) => v.name === 'alerts[].step'));
});
