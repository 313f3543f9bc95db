import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { updateNotificationSettings } from '../../src/billing/notifications/index.ts';
import {
  createEmailTransport,
  createSlackEndpoint,
  flushAlertDigest,
  listNotifications,
  listOutbox,
  raiseFailureAlert,
  unreadCount,
} from '../../src/notify/index.ts';
import type { AlertDeps } from '../../src/notify/index.ts';
import type { Db } from '../../src/db/types.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { startReceiver } from './support/http.ts';
import type { TestReceiver } from './support/http.ts';

let slack: TestReceiver;
before(async () => {
  slack = await startReceiver();
});
after(() => slack.stop());

const policy = { maxPerWindow: 5, windowMs: 10 * 60_000 };

async function setup(kind: Parameters<typeof freshDatabase>[0], name: string) {
  const { db } = await freshDatabase(kind);
  const path = `/${kind}/${name}`;
  await createSlackEndpoint(db, { name: 'alerts', url: `${slack.url}${path}` });
  const clock = testClock();
  const deps: AlertDeps = {
    email: createEmailTransport({ from: 'billflow@acme.example' }),
    fetch,
    clock: clock.now,
    slackTimeoutMs: 500,
    adminUrl: 'https://billflow.acme.example/',
    policy,
  };
  const posted = () => slack.received.filter((r) => r.path === path).map((r) => (r.json as { text: string }).text);
  return { db, clock, deps, posted };
}

const fail = (db: Db, deps: AlertDeps, i: number, step = 'send_customer_email') =>
  raiseFailureAlert(db, deps, {
    runId: `run_${String(i).padStart(3, '0')}`,
    type: 'payment_success',
    step,
    error: { name: 'RetryableError', message: `SMTP down (${i})` },
  });

eachDatabase((kind) => {
  test('a storm of 30 failures: 5 alerts, then one digest of the other 25 once the window allows', async () => {
    const { db, clock, deps, posted } = await setup(kind, 'storm');
    const results = [];
    for (let i = 1; i <= 30; i++) results.push(await fail(db, deps, i));
    assert.deepEqual(
      results.map((r) => r.delivery),
      [...Array(5).fill('sent'), ...Array(25).fill('queued_for_digest')],
    );
    assert.equal(posted().length, 5);
    assert.match(
      String(posted()[0]),
      /^:x: \*Run failed\* — `payment_success` at `send_customer_email`: SMTP down \(1\) \(<https:\/\/billflow.acme.example\/runs\/run_001\|run_001>\)$/,
    );
    assert.equal(await unreadCount(db, { kind: 'alert' }), 30, 'every failure is in the in-app feed');

    clock.advance(5 * 60_000);
    assert.deepEqual(await flushAlertDigest(db, deps), { retried: 0, digest: null, waiting: 25 }, 'still capped');
    clock.advance(5 * 60_000 + 1);
    const flushed = await flushAlertDigest(db, deps);
    assert.equal(flushed.digest?.alert_count, 25);
    assert.equal(flushed.digest?.delivered, true);
    assert.equal(flushed.waiting, 0);
    assert.equal(posted().length, 6);
    const digest = String(posted()[5]);
    assert.match(digest, /^:x: \*25 more runs failed\* while alerts were capped\n• 25 at `send_customer_email`/);
    assert.match(digest, /run_006 \(payment_success\): SMTP down \(6\)/);
    assert.match(digest, /… and 5 more$/, '20 listed, the rest counted');

    assert.equal((await flushAlertDigest(db, deps)).digest, null, 'nothing left: no second digest');
    assert.equal((await fail(db, deps, 31)).delivery, 'sent', 'the window has room again');
    assert.equal(posted().length, 7);
  });

  test('concurrent failures never exceed the cap, and the rest leave as one digest', async () => {
    const { db, clock, deps, posted } = await setup(kind, 'concurrent');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => fail(db, deps, i)));
    const sent = results.filter((r) => r.delivery === 'sent').length;
    // How many go alone depends on timing (an alert never overtakes an earlier waiting one);
    // the cap does not.
    assert.ok(sent >= 1 && sent <= 5, `${sent} sent alone`);
    assert.equal(results.filter((r) => r.delivery === 'queued_for_digest').length, 20 - sent);
    assert.equal(posted().length, sent);
    clock.advance(policy.windowMs + 1);
    const flushes = await Promise.all([flushAlertDigest(db, deps), flushAlertDigest(db, deps)]);
    assert.deepEqual(flushes.map((f) => f.digest?.alert_count).filter(Boolean), [20 - sent], 'one digest');
    assert.equal(posted().length, sent + 1);
  });

  test('a digest whose delivery fails is retried after a restart, sent once, and Slack + email both get it', async () => {
    const { db, clock, deps, posted } = await setup(kind, 'durable');
    await updateNotificationSettings(db, 'run_failed', { team_email: true, team_emails: ['oncall@acme.example'] });
    for (let i = 1; i <= 7; i++) await fail(db, deps, i, i % 2 ? 'send_customer_email' : 'execute_provider_refund');
    assert.equal(posted().length, 5);
    clock.advance(policy.windowMs + 1);
    slack.respond = [500];
    const failed = await flushAlertDigest(db, deps);
    assert.equal(failed.digest?.delivered, false, 'Slack answered 500: kept for a retry');
    assert.equal(posted().length, 6, 'the one refused attempt');

    // A new process (fresh deps) after the backoff: the same digest, not a new one.
    const restarted: AlertDeps = { ...deps, email: createEmailTransport({ from: 'billflow@acme.example' }) };
    assert.equal((await flushAlertDigest(db, restarted)).retried, 0, 'not due before its backoff');
    clock.advance(61_000);
    const retried = await flushAlertDigest(db, restarted);
    assert.equal(retried.retried, 1);
    assert.equal(retried.digest, null);
    assert.equal(posted().length, 7);
    assert.match(String(posted()[6]), /2 more runs failed/);
    clock.advance(60 * 60_000);
    assert.equal((await flushAlertDigest(db, restarted)).retried, 0, 'delivered: never again');
    assert.equal(posted().length, 7);
    const emails = (await listOutbox(db, { limit: 100 })).items.filter((m) => m.kind === 'alert_email');
    assert.equal(emails.length, 6, '5 single alerts + 1 digest, the digest email only once');
    assert.ok(emails.some((m) => m.subject === '2 more runs failed'));
  });

  test('an alert cut off inside the send window is resent by the flush and flagged as a possible duplicate', async () => {
    const { db, clock, deps, posted } = await setup(kind, 'cutoff');
    slack.respond = [0];
    assert.equal((await fail(db, deps, 1)).delivery, 'retry_scheduled');
    clock.advance(61_000);
    assert.equal((await flushAlertDigest(db, deps)).retried, 1);
    assert.equal(posted().length, 2);
    const { rows } = await db.query<{ possible_duplicate: boolean; status: string }>(
      `SELECT possible_duplicate, status FROM message_sends WHERE kind = 'alert_slack'`,
    );
    assert.deepEqual(rows, [{ possible_duplicate: true, status: 'sent' }]);
  });

  test('no outside channel: in-app only; the same dedupe key raises one alert', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const deps: AlertDeps = {
      email: createEmailTransport({ from: 'b@acme.example' }),
      fetch,
      clock: clock.now,
      policy,
    };
    const alert = {
      runId: 'run_x',
      type: 'refund_creation',
      step: 'record_refund',
      error: new Error('boom'),
      dedupeKey: 'run_x:1',
    };
    assert.equal((await raiseFailureAlert(db, deps, alert)).delivery, 'in_app_only');
    assert.equal((await raiseFailureAlert(db, deps, alert)).delivery, 'duplicate');
    const feed = await listNotifications(db);
    assert.equal(feed.items.length, 1);
    assert.equal(feed.items[0]?.title, 'Run failed: refund_creation at record_refund');
    assert.equal(feed.items[0]?.severity, 'error');
    assert.equal((await flushAlertDigest(db, deps)).waiting, 0);
  });
});
