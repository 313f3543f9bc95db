import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidInputError } from '../../src/errors.ts';
import {
  getNotificationSettings,
  listNotificationSettings,
  resetNotificationSettings,
  updateNotificationSettings,
} from '../../src/billing/notifications/index.ts';
import {
  createNotification,
  createSlackEndpoint,
  deleteSlackEndpoint,
  enabledSlackTargets,
  listNotifications,
  listSlackEndpoints,
  markAllRead,
  markRead,
  resolveFinishedAlerts,
  unreadCount,
  updateSlackEndpoint,
} from '../../src/notify/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';

function fields(error: unknown): string[] {
  assert.ok(error instanceof InvalidInputError);
  return error.errors.map((e) => e.field);
}

eachDatabase((kind) => {
  test('in-app feed: newest first in keyset pages, unread count, mark read, dedupe', async () => {
    const { db } = await freshDatabase(kind);
    for (let i = 1; i <= 7; i++) {
      await createNotification(db, {
        kind: i % 3 === 0 ? 'alert' : 'notice',
        event: i % 3 === 0 ? 'run_failed' : 'payment_succeeded',
        title: `n${i}`,
        body: `body ${i}`,
        runId: `run_${i}`,
      });
    }
    const again = await createNotification(db, {
      kind: 'notice',
      event: 'refund_created',
      title: 'r',
      body: '',
      dedupeKey: 'k',
    });
    assert.equal(
      (await createNotification(db, { kind: 'notice', event: 'refund_created', title: 'r2', body: '', dedupeKey: 'k' }))
        .id,
      again.id,
    );

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listNotifications(db, {}, { limit: 3, cursor });
      seen.push(...page.items.map((n) => n.title));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    assert.deepEqual(seen, ['r', 'n7', 'n6', 'n5', 'n4', 'n3', 'n2', 'n1']);
    assert.deepEqual(
      (await listNotifications(db, { kind: 'alert' })).items.map((n) => n.title),
      ['n6', 'n3'],
    );

    // Read state is per reader: what the admin reads stays unread for support.
    const admin = 'user:usr_admin';
    const support = 'user:usr_support';
    assert.equal(await unreadCount(db, { reader: admin }), 8);
    assert.equal(await unreadCount(db, { kind: 'alert', reader: admin }), 2);
    const alerts = (await listNotifications(db, { kind: 'alert', reader: admin })).items;
    assert.equal(
      await markRead(
        db,
        admin,
        alerts.map((a) => a.id),
      ),
      2,
    );
    assert.equal(
      await markRead(
        db,
        admin,
        alerts.map((a) => a.id),
      ),
      0,
      'already read',
    );
    assert.equal(await unreadCount(db, { kind: 'alert', reader: admin }), 0);
    assert.equal(await unreadCount(db, { kind: 'alert', reader: support }), 2, 'still unread for someone else');
    const seenByAdmin = (await listNotifications(db, { kind: 'alert', reader: admin })).items;
    assert.ok(seenByAdmin.every((n) => n.read_at !== null));
    assert.ok((await listNotifications(db, { kind: 'alert', reader: support })).items.every((n) => n.read_at === null));
    assert.equal((await listNotifications(db, { unreadOnly: true, reader: admin })).items.length, 6);
    assert.equal(await markAllRead(db, admin), 6);
    assert.equal(await unreadCount(db, { reader: admin }), 0);
    assert.equal(await unreadCount(db, { reader: support }), 8);
    // A mark of one kind leaves the other kind alone, and a later entry stays unread.
    assert.equal(await markAllRead(db, support, undefined, { kind: 'alert' }), 2);
    assert.equal(await unreadCount(db, { reader: support }), 6);
    await createNotification(db, { kind: 'alert', event: 'run_failed', title: 'late', body: '' });
    assert.equal(await unreadCount(db, { kind: 'alert', reader: support }), 1);
    await assert.rejects(markRead(db, ' ', [alerts[0]?.id ?? '']), (e) => fields(e)[0] === 'reader');
    await assert.rejects(listNotifications(db, {}, { cursor: 'garbage' }), (e) => fields(e)[0] === 'cursor');
  });

  test('a failure alert resolves itself once its run completed or was cancelled', async () => {
    const { db } = await freshDatabase(kind);
    for (const id of ['run_done', 'run_gone', 'run_still']) {
      await db.query(`INSERT INTO workflow_runs (id, type, steps, status) VALUES ($1, 't', ARRAY['a'], 'failed')`, [
        id,
      ]);
      await createNotification(db, { kind: 'alert', event: 'run_failed', title: id, body: '', runId: id });
    }
    const reader = 'user:usr_ops';
    assert.equal(await unreadCount(db, { kind: 'alert', reader }), 3);
    assert.equal(await resolveFinishedAlerts(db), 0, 'failed runs leave their alerts open');
    await db.query(`UPDATE workflow_runs SET status = 'completed', finished_at = now() WHERE id = 'run_done'`);
    await db.query(`UPDATE workflow_runs SET status = 'cancelled', finished_at = now() WHERE id = 'run_gone'`);
    assert.equal(await resolveFinishedAlerts(db), 2);
    assert.equal(await resolveFinishedAlerts(db), 0);
    assert.equal(await unreadCount(db, { kind: 'alert', reader }), 1, 'resolved alerts are not counted');
    const feed = (await listNotifications(db, { kind: 'alert', reader })).items;
    assert.deepEqual(
      feed.map((n) => [n.title, n.resolved_at !== null]),
      [
        ['run_still', false],
        ['run_gone', true],
        ['run_done', true],
      ],
    );
    assert.deepEqual(
      (await listNotifications(db, { kind: 'alert', reader, unreadOnly: true })).items.map((n) => n.title),
      ['run_still'],
    );
  });

  test('settings: defaults per event, partial updates, validation by field, reset', async () => {
    const { db } = await freshDatabase(kind);
    const all = await listNotificationSettings(db);
    assert.ok(all.every((s) => !s.customized && s.in_app && s.slack && !s.team_email));
    assert.equal(all.find((s) => s.event === 'run_failed')?.customer_email, false);
    assert.equal(all.find((s) => s.event === 'payment_failed')?.customer_email, true);

    const updated = await updateNotificationSettings(
      db,
      'payment_failed',
      { team_email: true, team_emails: ['ops@acme.example', 'ops@acme.example', 'cfo@acme.example'] },
      'admin@acme.example',
    );
    assert.deepEqual(updated.team_emails, ['ops@acme.example', 'cfo@acme.example']);
    assert.equal(updated.customer_email, true, 'untouched settings keep their value');
    assert.equal(updated.updated_by, 'admin@acme.example');
    await updateNotificationSettings(db, 'payment_failed', { slack: false });
    const read = await getNotificationSettings(db, 'payment_failed');
    assert.deepEqual([read.slack, read.team_email, read.customized], [false, true, true]);

    await assert.rejects(
      updateNotificationSettings(db, 'payment_failed', {
        slack: 'yes' as unknown as boolean,
        team_emails: ['fine@acme.example', 'not-an-email'],
        colour: 'red',
      } as never),
      (e) => {
        assert.deepEqual(fields(e), ['colour', 'slack', 'team_emails[1]']);
        return true;
      },
    );
    await assert.rejects(
      updateNotificationSettings(db, 'run_failed', { customer_email: true }),
      (e) => fields(e)[0] === 'customer_email',
    );
    await assert.rejects(
      updateNotificationSettings(db, 'refund_created', { team_email: true }),
      (e) => fields(e)[0] === 'team_emails',
    );
    await assert.rejects(getNotificationSettings(db, 'alert_digest'), (e) => fields(e)[0] === 'event');
    assert.equal((await resetNotificationSettings(db, 'payment_failed')).customized, false);
    assert.equal((await getNotificationSettings(db, 'payment_failed')).slack, true);
  });

  test('Slack endpoints: create, list with the URL masked, disable, unique names, delete', async () => {
    const { db } = await freshDatabase(kind);
    const url = 'https://hooks.slack.com/services/T0/B0/abcdefSECRETwxyz';
    const created = await createSlackEndpoint(db, { name: 'billing', url });
    assert.equal(created.url_hint, 'https://hooks.slack.com/…wxyz');
    assert.ok(!JSON.stringify(await listSlackEndpoints(db)).includes('SECRET'));
    assert.deepEqual(
      (await enabledSlackTargets(db)).map((t) => t.url),
      [url],
    );
    await updateSlackEndpoint(db, created.id, { enabled: false });
    assert.deepEqual(await enabledSlackTargets(db), []);
    await assert.rejects(createSlackEndpoint(db, { name: 'billing', url }), ConflictError);
    await assert.rejects(createSlackEndpoint(db, { name: '', url: 'ftp://x' }), (e) => {
      assert.deepEqual(fields(e), ['name', 'url']);
      return true;
    });
    await deleteSlackEndpoint(db, created.id);
    assert.deepEqual(await listSlackEndpoints(db), []);
  });
});
