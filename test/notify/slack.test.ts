import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { PermanentError, RetryableError } from '../../src/errors.ts';
import {
  saveTemplateOverride,
  sendCustomerEmail,
  sendTeamNotice,
  updateNotificationSettings,
} from '../../src/billing/notifications/index.ts';
import {
  createEmailTransport,
  createSlackEndpoint,
  getSend,
  listNotifications,
  listOutbox,
  postSlack,
  sendKey,
  sendWebhook,
} from '../../src/notify/index.ts';
import type { NotifyDeps, SlackMessage } from '../../src/notify/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { startReceiver } from './support/http.ts';
import type { TestReceiver } from './support/http.ts';
import { sharedDatabase } from './support/db.ts';

let slack: TestReceiver;
before(async () => {
  slack = await startReceiver();
});
after(() => slack.stop());

let n = 0;
function message(overrides: Partial<SlackMessage> = {}): SlackMessage {
  n += 1;
  return {
    sendKey: sendKey(`run_s${n}:send_internal_notice`, 'team_slack'),
    kind: 'team_slack',
    runId: `run_s${n}`,
    endpoint: { id: 'slk_test', name: 'billing-alerts', url: `${slack.url}/services/T000/B000/secret${n}` },
    text: `hello ${n}`,
    ...overrides,
  };
}

const deps = { fetch, timeoutMs: 500 };
const posts = (text: string) => slack.received.filter((r) => (r.json as { text?: string } | undefined)?.text === text);

eachDatabase((kind) => {
  const database = sharedDatabase(kind);

  test('posts {text, blocks} to the webhook; the same key again posts nothing', async () => {
    const db = await database();
    const msg = message({ blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }] });
    const sent = await postSlack(db, deps, msg);
    assert.equal(sent.recipient, 'slack:billing-alerts', 'named by the endpoint, never by its URL');
    assert.deepEqual(
      posts(msg.text).map((r) => r.json),
      [{ text: msg.text, blocks: msg.blocks }],
    );
    assert.equal(posts(msg.text)[0]?.headers['content-type'], 'application/json');
    assert.equal((await postSlack(db, deps, msg)).already_sent, true);
    assert.equal(posts(msg.text).length, 1);
  });

  test('500 → retryable and not a duplicate on retry; 400 → permanent; 429 → retryable', async () => {
    const db = await database();
    const msg = message();
    slack.respond = [500];
    await assert.rejects(postSlack(db, deps, msg), (e) => e instanceof RetryableError && /HTTP 500/.test(e.message));
    const retried = await postSlack(db, deps, msg);
    assert.equal(retried.possible_duplicate, false, 'Slack answered 500: the message was not posted');
    slack.respond = [400];
    await assert.rejects(postSlack(db, deps, message()), PermanentError);
    slack.respond = [429];
    await assert.rejects(postSlack(db, deps, message()), RetryableError);
    const secretFree = await getSend(db, msg.sendKey);
    assert.ok(!JSON.stringify(secretFree).includes('/services/'), 'the webhook URL is not stored');
  });

  test('no answer within the timeout → retryable, and the resend is flagged as a possible duplicate', async () => {
    const db = await database();
    const msg = message();
    slack.respond = [0];
    await assert.rejects(
      postSlack(db, deps, msg),
      (e) => e instanceof RetryableError && /no answer within 500 ms/.test(e.message),
    );
    const resent = await postSlack(db, deps, msg);
    assert.equal(resent.possible_duplicate, true);
    assert.equal(posts(msg.text).length, 2);
  });

  test('Slack unreachable → retryable, not a duplicate', async () => {
    const db = await database();
    const gone = await startReceiver();
    await gone.stop();
    const msg = message({ endpoint: { id: 'slk_gone', name: 'gone', url: `${gone.url}/hook` } });
    await assert.rejects(postSlack(db, deps, msg), RetryableError);
    assert.equal((await getSend(db, msg.sendKey))?.status, 'failed');
  });

  test('internal notice: in-app, every Slack endpoint and the team email; a retry repeats only what failed', async () => {
    const { db } = await freshDatabase(kind);
    await createSlackEndpoint(db, { name: 'ops', url: `${slack.url}/ops` });
    await createSlackEndpoint(db, { name: 'sales', url: `${slack.url}/sales` });
    await updateNotificationSettings(db, 'payment_succeeded', { team_email: true, team_emails: ['team@acme.example'] });
    const notifyDeps: NotifyDeps = {
      email: createEmailTransport({ from: 'billing@acme.example' }),
      fetch,
      clock: () => new Date(),
      slackTimeoutMs: 500,
    };
    const request = {
      event: 'payment_succeeded' as const,
      idempotencyKey: 'run_notice:send_internal_notice',
      runId: 'run_notice',
      data: {
        customer: { name: 'Ada <b>', email: 'ada@example.com' },
        payment: { id: 'pay_1', amount: 4900, currency: 'EUR' },
        receipt: { number: 'RCT-1' },
      },
    };
    const before = slack.received.length;
    slack.respond = [200, 503];
    await assert.rejects(sendTeamNotice(db, notifyDeps, request), RetryableError);
    const result = await sendTeamNotice(db, notifyDeps, request);
    const got = slack.received.slice(before);
    assert.deepEqual(
      got.map((r) => r.path),
      ['/ops', '/sales', '/sales'],
      'ops got it once; sales failed once and was retried',
    );
    assert.equal(
      (got[0]?.json as { text: string }).text,
      ':white_check_mark: *Payment received* — €49.00 from Ada &lt;b&gt;',
    );
    assert.ok(Array.isArray(result.slack) && result.slack.length === 2);
    assert.equal(
      (result.team_email as { already_sent: boolean }).already_sent,
      true,
      'the team email went out on the first try',
    );
    const feed = await listNotifications(db);
    assert.equal(feed.items.length, 1, 'one in-app notice despite two attempts');
    assert.equal(feed.items[0]?.title, 'Payment received: €49.00 from Ada <b>');
    const outbox = await listOutbox(db);
    assert.deepEqual(
      outbox.items.map((m) => m.to_addresses),
      [['team@acme.example']],
    );
  });

  test("sends use the operators' texts of their channel and locale, and the settings they are routed by", async () => {
    const { db } = await freshDatabase(kind);
    await createSlackEndpoint(db, { name: 'ops', url: `${slack.url}/texts` });
    const texts = [
      { channel: 'internal', locale: 'en', subject: 'Team: {{ payment.id }}', body: 'In-app {{ payment.id }}' },
      { channel: 'slack', locale: 'en', body: 'Slack {{ payment.id }}' },
      { channel: 'email', locale: 'de', subject: 'Zahlung {{ payment.id }}', body: 'Danke' },
    ] as const;
    for (const t of texts) await saveTemplateOverride(db, { event: 'payment_succeeded', ...t });
    const notifyDeps: NotifyDeps = {
      email: createEmailTransport({ from: 'billing@acme.example' }),
      fetch,
      clock: () => new Date(),
      slackTimeoutMs: 500,
    };
    const data = {
      customer: { name: 'Ada', email: 'ada@example.com' },
      payment: { id: 'pay_texts', amount: 4900, currency: 'EUR' },
      receipt: { number: 'RCT-9' },
    };
    const notice = {
      event: 'payment_succeeded' as const,
      idempotencyKey: 'run_texts:notice',
      runId: 'run_texts',
      data,
    };
    const before = slack.received.length;
    await sendTeamNotice(db, notifyDeps, notice);
    const posted = slack.received.slice(before).filter((r) => r.path === '/texts');
    assert.deepEqual(
      posted.map((r) => (r.json as { text: string }).text),
      ['Slack pay_texts'],
    );
    assert.deepEqual(
      (await listNotifications(db)).items.map((n) => [n.title, n.body]),
      [['Team: pay_texts', 'In-app pay_texts']],
    );
    const mail = (locale: string, key: string) =>
      sendCustomerEmail(db, notifyDeps, {
        event: 'payment_succeeded',
        idempotencyKey: key,
        to: 'ada@example.com',
        locale,
        data,
      });
    await mail('de-AT', 'run_texts:mail_de');
    await mail('fr', 'run_texts:mail_fr');
    const subjects = (await listOutbox(db)).items.map((m) => m.subject).sort();
    assert.equal(subjects.length, 2);
    assert.equal(subjects[1], 'Zahlung pay_texts', 'de-AT gets the German override');
    assert.equal(subjects[0], 'Receipt RCT-9 for your payment of €49.00', 'fr falls back to the shipped English');

    // Routed by run_failed's settings (in-app and Slack off there), not by the event's own.
    await updateNotificationSettings(db, 'run_failed', { in_app: false, slack: false });
    const routed = await sendTeamNotice(db, notifyDeps, {
      ...notice,
      idempotencyKey: 'run_texts:routed',
      settingsOf: 'run_failed',
    });
    assert.equal((routed.in_app as { status: string }).status, 'skipped');
    assert.equal((routed.slack as { status: string }).status, 'skipped');
    assert.equal(slack.received.slice(before).filter((r) => r.path === '/texts').length, 1);
  });

  test('signed webhooks: Standard Webhooks headers, and the same webhook-id on every retry', async () => {
    const db = await database();
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const hook = { fetch, clock: () => new Date('2026-01-05T10:00:00Z'), timeoutMs: 500 };
    const msg = {
      sendKey: 'run_hook:notify_crm:webhook',
      kind: 'custom_webhook',
      runId: 'run_hook',
      url: `${slack.url}/hooks/crm?token=abc`,
      secret,
      type: 'payment.succeeded',
      data: { payment_id: 'pay_1' },
    };
    slack.respond = [502];
    await assert.rejects(sendWebhook(db, hook, msg), RetryableError);
    const sent = await sendWebhook(db, hook, msg);
    const [first, second] = slack.received.filter((r) => r.path === '/hooks/crm?token=abc');
    assert.ok(first && second);
    assert.equal(first.headers['webhook-id'], second.headers['webhook-id']);
    assert.equal(sent.message_id, second.headers['webhook-id']);
    assert.equal(second.headers['webhook-timestamp'], String(Date.parse('2026-01-05T10:00:00Z') / 1000));
    const expected = createHmac('sha256', Buffer.from('0123456789abcdef0123456789abcdef'))
      .update(`${String(second.headers['webhook-id'])}.${String(second.headers['webhook-timestamp'])}.${second.body}`)
      .digest('base64');
    assert.equal(second.headers['webhook-signature'], `v1,${expected}`);
    assert.deepEqual(second.json, {
      type: 'payment.succeeded',
      timestamp: '2026-01-05T10:00:00.000Z',
      data: { payment_id: 'pay_1' },
    });
    assert.equal(sent.recipient, new URL(slack.url).origin, 'origin only: the token in the query is not stored');
  });
});
