// Invitations by email: with SMTP and a public URL, creating an invited user and re-issuing the
// link each send it through the real in-process SMTP server, the mailed link works once, and the
// answer says whether it went out; without SMTP (or when the server refuses) it says so instead.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { buildServer } from '../../src/http/server.ts';
import { createEmailTransport } from '../../src/notify/index.ts';
import type { NotifyDeps } from '../../src/notify/index.ts';
import { billingHarness } from '../billing/harness.ts';
import type { BillingHarness } from '../billing/harness.ts';
import { eachDatabase } from '../helpers/databases.ts';

const PUBLIC_URL = 'https://billflow.example';

interface Invited {
  user: { id: string; email: string };
  invite_url: string | null;
  invite_email: { status: string; detail: string | null } | null;
}

eachDatabase((kind) => {
  describe('invitations by email', () => {
    let h: BillingHarness;
    let app: FastifyInstance;
    let key: string;
    const servers: FastifyInstance[] = [];
    // Called while the suite is set up, so the harness's own clean-up belongs to the suite.
    const setup = billingHarness(kind, { startWorker: false });
    after(async () => {
      for (const server of servers) await server.close();
    });
    const serve = async (notify: NotifyDeps, publicUrl?: string) => {
      const server = buildServer({
        db: h.db,
        clock: h.clock.now,
        publicUrl,
        billing: { registry: h.registry, provider: h.provider, notify },
      });
      await server.ready();
      servers.push(server);
      return server;
    };
    const call = (server: FastifyInstance, method: 'POST', url: string, body?: object) =>
      server.inject({
        method,
        url: `/api/v1${url}`,
        headers: { authorization: `Bearer ${key}` },
        ...(body ? { payload: body } : {}),
      });
    const mailTo = (address: string) => h.smtp.received.filter((m) => m.to.includes(address));
    const linkIn = (text: string | undefined) =>
      /https:\/\/billflow\.example\/invitation\?token=\S+/.exec(text ?? '')?.[0];
    const accept = (url: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/invitation',
        payload: { token: new URL(url).searchParams.get('token'), password: 'a long enough passphrase' },
      });

    before(async () => {
      h = await setup;
      app = await serve(h.notify, PUBLIC_URL);
      ({ key } = await createApiKey(h.db, {
        name: 'admin',
        role: 'admin',
        expiresAt: null,
        createdBy: null,
        now: h.clock.now(),
      }));
    });

    it('creating an invited user emails the link; the mailed link signs them in once', async () => {
      const created = await call(app, 'POST', '/users', { email: 'ivy@example.com', role: 'account_manager' });
      assert.equal(created.statusCode, 201, created.body);
      const body = created.json<Invited>();
      assert.deepEqual(body.invite_email, { status: 'sent', detail: null });
      const [mail, ...more] = mailTo('ivy@example.com');
      assert.ok(mail, 'the SMTP server received the invitation');
      assert.equal(more.length, 0);
      assert.equal(mail.mail.subject, 'Your Billflow invitation for Acme');
      assert.match(mail.mail.text ?? '', /as account manager/);
      const link = linkIn(mail.mail.text);
      assert.equal(link, body.invite_url, 'the mail carries the link of the answer');
      // The send is in the ledger, as every message out is.
      const sends = await h.db.query<{ status: string; recipient: string }>(
        `SELECT status, recipient FROM message_sends WHERE kind = 'user_invitation'`,
      );
      assert.deepEqual(sends.rows, [{ status: 'sent', recipient: 'ivy@example.com' }]);

      const first = await accept(String(link));
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json<{ user: { email: string } }>().user.email, 'ivy@example.com');
      const { rows } = await h.db.query<{ set: boolean }>(
        `SELECT password_hash IS NOT NULL AS set FROM users WHERE email = 'ivy@example.com'`,
      );
      assert.deepEqual(rows, [{ set: true }]);
      assert.equal((await accept(String(link))).statusCode, 400, 'the link works once');
    });

    it('a user created with a password gets no email; invite_email is null', async () => {
      const before = h.smtp.received.length;
      const created = await call(app, 'POST', '/users', {
        email: 'pat@example.com',
        role: 'viewer',
        password: 'pat has a long passphrase',
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json<Invited>().invite_email, null);
      assert.equal(h.smtp.received.length, before);
    });

    it('a re-issued invitation is emailed; only the newest link works', async () => {
      const created = await call(app, 'POST', '/users', { email: 'rex@example.com', role: 'viewer' });
      const { user } = created.json<Invited>();
      const reissued = await call(app, 'POST', `/users/${user.id}/invitation`);
      assert.equal(reissued.statusCode, 200, reissued.body);
      assert.deepEqual(reissued.json<Invited>().invite_email, { status: 'sent', detail: null });
      const mails = mailTo('rex@example.com');
      assert.equal(mails.length, 2);
      const [oldLink, newLink] = mails.map((m) => String(linkIn(m.mail.text)));
      assert.notEqual(oldLink, newLink);
      assert.equal(newLink, reissued.json<Invited>().invite_url);
      assert.equal((await accept(String(oldLink))).statusCode, 400, 'the earlier link stopped working');
      assert.equal((await accept(String(newLink))).statusCode, 200);
    });

    it('a refusing mail server is reported; the invitation stands and its link still works', async () => {
      h.smtp.rejectRecipient = (address) => (address === 'zed@example.com' ? 550 : undefined);
      try {
        const created = await call(app, 'POST', '/users', { email: 'zed@example.com', role: 'viewer' });
        assert.equal(created.statusCode, 201, created.body);
        const body = created.json<Invited>();
        assert.equal(body.invite_email?.status, 'failed');
        assert.match(String(body.invite_email?.detail), /550/);
        assert.equal((await accept(String(body.invite_url))).statusCode, 200);
      } finally {
        h.smtp.rejectRecipient = () => undefined;
      }
    });

    it('without SMTP, or without a public URL, nothing is sent and the answer says why', async () => {
      const outbox = await serve(
        { ...h.notify, email: createEmailTransport({ from: 'billing@acme.test' }) },
        PUBLIC_URL,
      );
      const before = h.smtp.received.length;
      const noSmtp = await call(outbox, 'POST', '/users', { email: 'ola@example.com', role: 'viewer' });
      assert.equal(noSmtp.statusCode, 201, noSmtp.body);
      assert.deepEqual(noSmtp.json<Invited>().invite_email, {
        status: 'not_sent',
        detail: 'no SMTP server is configured',
      });
      const outboxRows = await h.db.query(`SELECT 1 FROM email_outbox WHERE kind = 'user_invitation'`);
      assert.equal(outboxRows.rows.length, 0, 'a link is not parked in the outbox');

      const noUrl = await serve(h.notify);
      const relative = await call(noUrl, 'POST', '/users', { email: 'una@example.com', role: 'viewer' });
      assert.equal(relative.json<Invited>().invite_email?.status, 'not_sent');
      assert.equal(h.smtp.received.length, before);
    });
  });
});
