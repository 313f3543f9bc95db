import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Role } from '../../src/http/auth/roles.ts';
import { buildServer } from '../../src/http/server.ts';
import { createNotification, parseAllowHosts, sendEmail } from '../../src/notify/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { apiHarness, json } from './resource-harness.ts';
import type { ApiHarness } from './resource-harness.ts';

type Body = Record<string, unknown>;
interface Preview {
  subject: string;
  body: string;
  html: string | null;
  warnings: { field: string; variable: string }[];
  variables: { name: string; example: string }[];
}
const fieldOf = (res: { json(): unknown }) => (res.json() as { errors?: { field: string }[] }).errors?.[0]?.field;

eachDatabase((kind) => {
  describe('notification settings, templates, Slack, outbox and feed routes', () => {
    let h: ApiHarness;
    const setup = apiHarness(kind, { startWorker: false });
    before(async () => {
      h = await setup;
    });
    const auditOf = async (action: string) =>
      (
        await h.db.query<{ actor: string; target: string; reason: string | null }>(
          'SELECT actor, target, reason FROM audit_log WHERE action = $1 ORDER BY id',
          [action],
        )
      ).rows;

    it('reads, patches and resets settings per event; audited; bad input names the field', async () => {
      const list = json<{ items: { event: string; customized: boolean }[] }>(
        await h.call('account_manager', 'GET', '/notification-settings'),
      );
      assert.ok(list.items.some((s) => s.event === 'payment_failed' && !s.customized));
      assert.equal((await h.call('customer_support', 'GET', '/notification-settings')).statusCode, 403);
      const unknown = await h.call('account_manager', 'GET', '/notification-settings/lunch_time');
      assert.equal(fieldOf(unknown), 'event');

      const noAddress = await h.call('account_manager', 'PATCH', '/notification-settings/payment_failed', {
        team_email: true,
      });
      assert.equal(noAddress.statusCode, 400);
      assert.equal(fieldOf(noAddress), 'team_emails');
      const badAddress = await h.call('account_manager', 'PATCH', '/notification-settings/payment_failed', {
        team_emails: ['ops@example.com', 'not an address'],
      });
      assert.equal(badAddress.statusCode, 400);
      assert.equal(fieldOf(badAddress), 'team_emails[1]');
      const internal = await h.call('account_manager', 'PATCH', '/notification-settings/run_failed', {
        customer_email: true,
      });
      assert.equal(fieldOf(internal), 'customer_email');
      assert.equal((await auditOf('notification_settings.update')).length, 0, 'refused changes are not audited');

      const patched = await h.call('account_manager', 'PATCH', '/notification-settings/payment_failed', {
        team_email: true,
        team_emails: ['ops@example.com'],
        slack: false,
      });
      assert.equal(patched.statusCode, 200, patched.body);
      const saved = json<Body>(await h.call('account_manager', 'GET', '/notification-settings/payment_failed'));
      assert.equal(saved.customized, true);
      assert.equal(saved.team_email, true);
      assert.deepEqual(saved.team_emails, ['ops@example.com']);
      assert.equal(saved.slack, false);
      assert.equal(saved.customer_email, true, 'untouched settings keep their value');
      assert.equal(saved.updated_by, `api_key:${h.keys.account_manager.id}`);

      const reset = await h.call('account_manager', 'POST', '/notification-settings/payment_failed/reset');
      assert.equal(reset.statusCode, 200, reset.body);
      assert.equal(json(reset).customized, false);
      assert.equal(json(reset).slack, true);
      const actor = `api_key:${h.keys.account_manager.id}`;
      assert.deepEqual(await auditOf('notification_settings.update'), [
        { actor, target: 'notification_settings:payment_failed', reason: null },
      ]);
      assert.deepEqual(await auditOf('notification_settings.reset'), [
        { actor, target: 'notification_settings:payment_failed', reason: null },
      ]);
    });

    it('templates: list, open, save an override (syntax checked), preview, test-send, delete', async () => {
      const list = json<{ items: { event: string; channel: string; locale: string }[] }>(
        await h.call('account_manager', 'GET', '/templates'),
      );
      assert.ok(list.items.some((t) => t.event === 'payment_failed' && t.channel === 'email' && t.locale === 'en'));
      const url = '/templates/payment_failed/email/en';
      const shipped = json<{ body: string; is_override: boolean }>(await h.call('account_manager', 'GET', url));
      assert.equal(shipped.is_override, false);

      const broken = await h.call('account_manager', 'PUT', url, { subject: 'Oops', body: 'Hi {{ customer.name ' });
      assert.equal(broken.statusCode, 400, broken.body);
      assert.equal(fieldOf(broken), 'body');
      const noSubject = await h.call('account_manager', 'PUT', url, { body: 'Hello' });
      assert.equal(fieldOf(noSubject), 'subject');

      const saved = await h.call('account_manager', 'PUT', url, {
        subject: 'Payment problem for {{ customer.name }}',
        body: 'Hello {{ customer.name }}, your payment failed.',
      });
      assert.equal(saved.statusCode, 200, saved.body);
      assert.equal(json(saved).is_override, true);
      const opened = json<Body>(await h.call('account_manager', 'GET', url));
      assert.equal(opened.subject, 'Payment problem for {{ customer.name }}');
      assert.ok(opened.default, 'the shipped text stays available for a reset');

      const preview = await h.call('account_manager', 'POST', '/templates/preview', {
        event: 'payment_failed',
        channel: 'email',
        subject: 'To {{ customer.name }}',
        body: 'Dear {{ customer.name }}',
        data: { customer: { name: 'Grace' } },
      });
      assert.equal(preview.statusCode, 200, preview.body);
      const given = json<Preview>(preview);
      assert.deepEqual(
        { subject: given.subject, body: given.body, html: given.html, warnings: given.warnings },
        { subject: 'To Grace', body: 'Dear Grace', html: null, warnings: [] },
      );
      assert.ok(given.variables.some((v) => v.name === 'customer.name' && v.example === 'Grace'));
      const sample = json<Preview>(
        await h.call('account_manager', 'POST', '/templates/preview', {
          event: 'payment_failed',
          channel: 'email',
          subject: 'x',
          body: 'Dear {{ customer.nme }} {{ customer.name }}',
        }),
      );
      assert.match(sample.body, /^Dear {2}\S/, 'sample data fills the template; the misspelling is blank');
      // The misspelling is named; the panel lists what the event's sample data offers.
      assert.deepEqual(
        sample.warnings.map((w) => [w.field, w.variable]),
        [['body', 'customer.nme']],
      );
      const names = sample.variables.map((v) => v.name);
      for (const name of ['customer.name', 'customer.email', 'payment.amount', 'payment.failure_reason']) {
        assert.ok(names.includes(name), name);
      }
      // A save is not refused for it (real sends render it blank, as the docs say).
      const withTypo = await h.call('account_manager', 'PUT', url, {
        subject: 'Payment problem for {{ customer.nme }}',
        body: 'Hello {{ customer.name }}, your payment failed.',
      });
      assert.equal(withTypo.statusCode, 200, withTypo.body);
      const [stored] = (
        await h.db.query<{ subject: string }>(
          `SELECT subject FROM notification_templates WHERE event = 'payment_failed' AND channel = 'email'`,
        )
      ).rows;
      assert.equal(stored?.subject, 'Payment problem for {{ customer.nme }}');
      const fixed = await h.call('account_manager', 'PUT', url, {
        subject: 'Payment problem for {{ customer.name }}',
        body: 'Hello {{ customer.name }}, your payment failed.',
      });
      assert.equal(fixed.statusCode, 200, fixed.body);
      const badPreview = await h.call('account_manager', 'POST', '/templates/preview', {
        event: 'payment_failed',
        channel: 'email',
        subject: '{% if %}',
        body: 'x',
      });
      assert.equal(fieldOf(badPreview), 'subject');

      const sent = await h.call('account_manager', 'POST', `${url}/test-send`, {
        to: 'tester@example.com',
        data: { customer: { name: 'Ada' } },
      });
      assert.equal(sent.statusCode, 200, sent.body);
      assert.equal(json(sent).delivered, true);
      const mail = h.smtp.received.find((m) => m.to.includes('tester@example.com'));
      assert.ok(mail, 'the SMTP server received the test');
      assert.equal(mail.mail.subject, '[Test] Payment problem for Ada');
      assert.match(mail.mail.text ?? '', /Hello Ada, your payment failed\./);
      const slackSend = await h.call('account_manager', 'POST', '/templates/payment_failed/slack/en/test-send', {
        to: 'tester@example.com',
      });
      assert.equal(fieldOf(slackSend), 'channel');

      assert.equal((await h.call('account_manager', 'DELETE', url)).statusCode, 204);
      assert.equal(json(await h.call('account_manager', 'GET', url)).is_override, false);
      assert.equal((await h.call('account_manager', 'DELETE', url)).statusCode, 404);
      const target = 'template:payment_failed/email/en';
      assert.deepEqual(
        (await auditOf('template.save')).map((a) => a.target),
        [target, target, target],
      );
      assert.deepEqual(
        (await auditOf('template.delete')).map((a) => a.target),
        [target],
      );
      assert.equal((await auditOf('template.test_send')).length, 1);
    });

    it('Slack endpoints: developer only, URL never shown after creation, names unique', async () => {
      const body = { name: 'ops-alerts', url: 'https://hooks.slack.example/services/T000/B000/secretsecret1234' };
      assert.equal((await h.call('account_manager', 'POST', '/slack-endpoints', body)).statusCode, 403);
      const created = await h.call('developer', 'POST', '/slack-endpoints', body);
      assert.equal(created.statusCode, 201, created.body);
      assert.ok(!created.body.includes('secretsecret'), 'the webhook URL is not echoed');
      const id = json<{ id: string; url_hint: string }>(created).id;
      assert.match(json<{ url_hint: string }>(created).url_hint, /1234$/);
      const dup = await h.call('developer', 'POST', '/slack-endpoints', body);
      assert.equal(dup.statusCode, 409);
      assert.equal(fieldOf(dup), 'name');
      const badUrl = await h.call('developer', 'POST', '/slack-endpoints', { name: 'x', url: 'ftp://nope' });
      assert.equal(fieldOf(badUrl), 'url');

      const listed = await h.call('developer', 'GET', '/slack-endpoints');
      assert.ok(!listed.body.includes('secretsecret'));
      assert.ok(json<{ items: { id: string }[] }>(listed).items.some((e) => e.id === id));
      const disabled = await h.call('developer', 'PATCH', `/slack-endpoints/${id}`, { enabled: false });
      assert.equal(disabled.statusCode, 200);
      assert.equal(json(disabled).enabled, false);
      assert.equal((await h.call('developer', 'DELETE', `/slack-endpoints/${id}`)).statusCode, 204);
      assert.equal((await h.call('developer', 'DELETE', `/slack-endpoints/${id}`)).statusCode, 404);
      const audit = await h.db.query<{ action: string; details: unknown }>(
        `SELECT action, details FROM audit_log WHERE target = $1 ORDER BY id`,
        [id],
      );
      assert.deepEqual(
        audit.rows.map((a) => a.action),
        ['slack_endpoint.create', 'slack_endpoint.update', 'slack_endpoint.delete'],
      );
      assert.ok(!JSON.stringify(audit.rows).includes('secretsecret'));
    });

    it('Slack endpoints: the URL guard of webhooks; "send test" posts once and says what the endpoint answered', async () => {
      const count = async () =>
        (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM slack_endpoints')).rows[0]?.n;
      const before = await count();
      for (const url of [
        `${h.slack.url}/hook`,
        'https://10.0.0.1/hook',
        'https://169.254.169.254/latest',
        'http://hooks.slack.com/x',
      ]) {
        const refused = await h.call('developer', 'POST', '/slack-endpoints', { name: `refused ${url}`, url });
        assert.equal(refused.statusCode, 400, url);
        assert.equal(fieldOf(refused), 'url', url);
      }
      assert.equal(await count(), before, 'nothing stored');
      const existing = json<{ items: { id: string; name: string }[] }>(
        await h.call('developer', 'GET', '/slack-endpoints'),
      );
      const billing = existing.items.find((e) => e.name === 'billing');
      assert.ok(billing);
      const moved = await h.call('developer', 'PATCH', `/slack-endpoints/${billing.id}`, {
        url: 'https://127.0.0.1/x',
      });
      assert.equal(fieldOf(moved), 'url', 'a re-point is checked too');

      // Without an exception, a test to the loopback receiver is refused where it connects.
      const received = h.slack.received.length;
      const blocked = await h.call('developer', 'POST', `/slack-endpoints/${billing.id}/test`);
      assert.equal(blocked.statusCode, 200);
      assert.equal(json(blocked).delivered, false);
      assert.match(String(json(blocked).error), /must be an https URL/);
      assert.equal(h.slack.received.length, received);

      // With BILLFLOW_WEBHOOK_ALLOW_HOSTS=127.0.0.1: posted once; an error answer is shown as such.
      const allowed = buildServer({
        db: h.db,
        clock: h.clock.now,
        billing: { registry: h.registry, provider: h.provider, notify: h.notify },
        webhookGuard: parseAllowHosts('127.0.0.1'),
      });
      const test = () =>
        allowed.inject({
          method: 'POST',
          url: `/api/v1/slack-endpoints/${billing.id}/test`,
          headers: { authorization: `Bearer ${h.keys.developer.key}` },
        });
      try {
        const sent = await test();
        assert.equal(sent.statusCode, 200, sent.body);
        assert.equal(json(sent).delivered, true);
        assert.equal(json(sent).status_code, 200);
        assert.equal(h.slack.received.length, received + 1);
        assert.match(String((h.slack.received.at(-1)?.json as { text?: string }).text), /Billflow test message/);
        h.slack.respond = [404];
        const rejected = await test();
        assert.deepEqual([json(rejected).delivered, json(rejected).status_code], [false, 404]);
        assert.match(String(json(rejected).error), /HTTP 404: invalid_payload/);
        assert.equal((await test()).statusCode, 200);
        const missing = await allowed.inject({
          method: 'POST',
          url: '/api/v1/slack-endpoints/slk_nothere/test',
          headers: { authorization: `Bearer ${h.keys.developer.key}` },
        });
        assert.equal(missing.statusCode, 404);
      } finally {
        await allowed.close();
      }
      const sends = await h.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM message_sends WHERE channel = 'slack'`,
      );
      const feed = await h.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM notifications WHERE event LIKE '%test%'`,
      );
      assert.deepEqual([sends.rows[0]?.n, feed.rows[0]?.n], [0, 0], 'a test send records nothing');
    });

    it('outbox: list, read and download an attachment byte for byte', async () => {
      const pdf = Buffer.from('%PDF-1.7 test bytes \u00ff');
      await sendEmail(
        h.db,
        { kind: 'outbox', from: 'Billing <billing@example.com>' },
        {
          sendKey: 'test:outbox:1',
          kind: 'customer_email',
          to: 'buyer@example.com',
          subject: 'Your invoice',
          text: 'Attached.',
          attachments: [{ filename: 'Rechnung März.pdf', content: pdf, contentType: 'application/pdf' }],
        },
      );
      const page = json<{ items: { id: string; subject: string; attachment_count: number }[] }>(
        await h.call('customer_support', 'GET', '/outbox'),
      );
      const email = page.items.find((e) => e.subject === 'Your invoice');
      assert.ok(email);
      assert.equal(email.attachment_count, 1);
      const detail = json<{ text_body: string; attachments: { position: number; filename: string }[] }>(
        await h.call('customer_support', 'GET', `/outbox/${email.id}`),
      );
      assert.equal(detail.text_body, 'Attached.');
      const position = detail.attachments[0]?.position;
      const file = await h.call('customer_support', 'GET', `/outbox/${email.id}/attachments/${position}`);
      assert.equal(file.statusCode, 200);
      assert.equal(file.headers['content-type'], 'application/pdf');
      assert.match(String(file.headers['content-disposition']), /filename\*=UTF-8''Rechnung%20M%C3%A4rz\.pdf/);
      assert.deepEqual(file.rawPayload, pdf);
      const missing = await h.call('customer_support', 'GET', `/outbox/${email.id}/attachments/7`);
      assert.equal(missing.statusCode, 404);
      assert.equal((await h.call('viewer', 'GET', '/outbox')).statusCode, 403);
    });

    it('in-app feed: list, unread count, mark read, mark all read — read state per reader', async () => {
      const a = await createNotification(h.db, { kind: 'notice', event: 'payment_succeeded', title: 'Paid', body: '' });
      await createNotification(h.db, { kind: 'alert', event: 'run_failed', title: 'Run failed', body: 'x' });
      await createNotification(h.db, { kind: 'notice', event: 'refund_created', title: 'Refund', body: '' });
      const unread = (role: Role = 'account_manager') =>
        h.call(role, 'GET', '/notifications/unread-count').then((r) => json(r).unread);
      assert.equal(await unread(), 3);
      const alerts = json<{ items: { title: string }[] }>(
        await h.call('account_manager', 'GET', '/notifications?kind=alert'),
      );
      assert.deepEqual(
        alerts.items.map((n) => n.title),
        ['Run failed'],
      );
      const paged = json<{ items: unknown[]; next_cursor: string }>(
        await h.call('account_manager', 'GET', '/notifications?limit=2'),
      );
      assert.equal(paged.items.length, 2);
      const rest = json<{ items: unknown[]; next_cursor: string | null }>(
        await h.call('account_manager', 'GET', `/notifications?limit=2&cursor=${paged.next_cursor}`),
      );
      assert.equal(rest.items.length, 1);
      assert.equal(rest.next_cursor, null);

      const read = await h.call('account_manager', 'POST', '/notifications/read', { ids: [a.id] });
      assert.deepEqual(json(read), { updated: 1 });
      assert.equal(await unread(), 2);
      assert.equal(await unread('admin'), 3, 'what one reader read stays unread for another');
      const stored = await h.db.query<{ reader: string }>(
        'SELECT reader FROM notification_reads WHERE notification_id = $1',
        [a.id],
      );
      assert.deepEqual(
        stored.rows.map((r) => r.reader),
        [`api_key:${h.keys.account_manager.id}`],
      );
      const badIds = await h.call('account_manager', 'POST', '/notifications/read', { ids: ['x'] });
      assert.equal(fieldOf(badIds), 'ids[0]');
      const later = await createNotification(h.db, { kind: 'alert', event: 'run_failed', title: 'Later', body: '' });
      const upTo = new Date(new Date(later.created_at).getTime() - 1).toISOString();
      const seen = await h.call('account_manager', 'POST', `/notifications/read-all?up_to=${encodeURIComponent(upTo)}`);
      assert.deepEqual(json(seen), { updated: 2 }, 'an entry newer than up_to stays unread');
      assert.equal(await unread(), 1);
      const all = await h.call('account_manager', 'POST', '/notifications/read-all');
      assert.deepEqual(json(all), { updated: 1 });
      assert.equal(await unread(), 0);
      assert.equal(await unread('admin'), 4);
    });

    it('failure alerts reach account_manager and above only; lower roles get the notices', async () => {
      const before = json<{ items: { id: string }[] }>(await h.call('viewer', 'GET', '/notifications?limit=200'));
      await createNotification(h.db, { kind: 'alert', event: 'run_failed', title: 'Only for managers', body: '' });
      for (const role of ['viewer', 'customer_support'] as const) {
        const feed = json<{ items: { kind: string }[] }>(await h.call(role, 'GET', '/notifications?limit=200'));
        assert.ok(
          feed.items.every((n) => n.kind === 'notice'),
          `${role} sees no alert`,
        );
        assert.deepEqual(json(await h.call(role, 'GET', '/notifications?kind=alert')), {
          items: [],
          next_cursor: null,
        });
        assert.deepEqual(json(await h.call(role, 'GET', '/notifications/unread-count?kind=alert')), { unread: 0 });
      }
      assert.equal(
        json<{ items: unknown[] }>(await h.call('viewer', 'GET', '/notifications?limit=200')).items.length,
        before.items.length,
      );
      const managers = json<{ items: { title: string }[] }>(
        await h.call('account_manager', 'GET', '/notifications?kind=alert'),
      );
      assert.equal(managers.items[0]?.title, 'Only for managers');
    });

    it('mark all read with kind=alert leaves notices unread (and the other way round)', async () => {
      const unread = (kind: string) =>
        h.call('developer', 'GET', `/notifications/unread-count?kind=${kind}`).then((r) => json(r).unread as number);
      const [alertsBefore, noticesBefore] = [await unread('alert'), await unread('notice')];
      await createNotification(h.db, { kind: 'alert', event: 'run_failed', title: 'Failed A', body: '' });
      await createNotification(h.db, { kind: 'alert', event: 'run_failed', title: 'Failed B', body: '' });
      await createNotification(h.db, { kind: 'notice', event: 'payment_succeeded', title: 'Paid', body: '' });
      const alerts = await h.call('developer', 'POST', '/notifications/read-all?kind=alert');
      assert.equal(alerts.statusCode, 200, alerts.body);
      assert.deepEqual(json(alerts), { updated: alertsBefore + 2 });
      assert.equal(await unread('alert'), 0);
      assert.equal(await unread('notice'), noticesBefore + 1, 'notices stay unread');

      const badKind = await h.call('developer', 'POST', '/notifications/read-all?kind=everything');
      assert.equal(badKind.statusCode, 400);
      assert.equal(fieldOf(badKind), 'kind');
      assert.equal(await unread('notice'), noticesBefore + 1, 'a refused call changes nothing');

      await createNotification(h.db, { kind: 'alert', event: 'run_failed', title: 'Failed C', body: '' });
      const notices = await h.call('developer', 'POST', '/notifications/read-all?kind=notice');
      assert.deepEqual(json(notices), { updated: noticesBefore + 1 });
      assert.equal(await unread('notice'), 0);
      assert.equal(await unread('alert'), 1, 'the alert stays unread');
    });
  });
});
