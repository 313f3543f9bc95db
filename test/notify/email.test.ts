import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError, PermanentError, RetryableError } from '../../src/errors.ts';
import { sendCustomerEmail, updateNotificationSettings } from '../../src/billing/notifications/index.ts';
import {
  closeEmailTransport,
  createEmailTransport,
  getOutboxAttachment,
  getOutboxEmail,
  getSend,
  listOutbox,
  listSends,
  renderInvoicePdf,
  sendEmail,
  sendKey,
} from '../../src/notify/index.ts';
import type { EmailMessage, NotifyDeps } from '../../src/notify/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { sharedDatabase } from './support/db.ts';
import { startSmtpServer } from './support/smtp.ts';
import type { TestSmtpServer } from './support/smtp.ts';

let smtp: TestSmtpServer;
before(async () => {
  smtp = await startSmtpServer();
});
after(() => smtp.stop());

const FROM = 'Acme Billing <billing@acme.example>';
const smtpTransport = () =>
  createEmailTransport({
    smtpUrl: smtp.url,
    from: FROM,
    timeouts: { connectionTimeoutMs: 2000, socketTimeoutMs: 700 },
  });

async function invoicePdf(): Promise<Buffer> {
  return renderInvoicePdf({
    number: 'INV-0042',
    issuedAt: '2026-01-05',
    dueDate: '2026-02-04',
    currency: 'EUR',
    seller: { name: 'Acme Cloud' },
    customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
    lines: [{ description: 'Pro plan', quantity: 1, unitAmount: 4900, amount: 4900 }],
    total: 4900,
  });
}

let keys = 0;
function message(overrides: Partial<EmailMessage> = {}): EmailMessage {
  keys += 1;
  return {
    sendKey: sendKey(`run_test${keys}:send_customer_email`, 'customer_email'),
    kind: 'customer_email',
    runId: `run_test${keys}`,
    to: 'ada@example.com',
    subject: 'Invoice INV-0042',
    text: 'Your invoice is attached.',
    html: '<p>Your invoice is attached.</p>',
    ...overrides,
  };
}

const received = (key: string) => smtp.received.filter((m) => m.mail.text?.includes(key));

eachDatabase((kind) => {
  const database = sharedDatabase(kind);
  test('SMTP: the server receives the mail with its PDF, and a second send of the key sends nothing', async () => {
    const db = await database();
    const transport = smtpTransport();
    const pdf = await invoicePdf();
    const msg = message({
      text: `mark-${keys}-a`,
      attachments: [{ filename: 'INV-0042.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    const first = await sendEmail(db, transport, msg);
    assert.equal(first.transport, 'smtp');
    assert.equal(first.possible_duplicate, false);
    assert.equal(first.already_sent, false);
    const mails = received(msg.text);
    const [delivered] = mails;
    assert.ok(delivered && mails.length === 1);
    const mail = delivered.mail;
    assert.deepEqual(delivered.to, ['ada@example.com']);
    assert.equal(mail.subject, 'Invoice INV-0042');
    assert.match(String(mail.html), /Your invoice is attached/);
    const [attachment] = mail.attachments;
    assert.ok(attachment && mail.attachments.length === 1);
    assert.equal(attachment.filename, 'INV-0042.pdf');
    assert.equal(attachment.contentType, 'application/pdf');
    assert.equal(attachment.content.subarray(0, 5).toString('latin1'), '%PDF-');

    const again = await sendEmail(db, transport, msg);
    assert.equal(again.already_sent, true);
    assert.equal(again.message_id, first.message_id);
    assert.equal(received(msg.text).length, 1, 'not sent twice');
    const [record] = await listSends(db, msg.runId as string);
    assert.equal(record?.status, 'sent');
    assert.equal(record?.attempts, 1);
  });

  test('SMTP: templated customer email in the customer locale, per-event switch respected', async () => {
    const db = await database();
    const deps: NotifyDeps = {
      email: smtpTransport(),
      fetch,
      clock: () => new Date(),
      company: { name: 'Acme Cloud' },
    };
    const to = `kunde-${keys}@example.com`;
    const result = await sendCustomerEmail(db, deps, {
      event: 'invoice_created',
      idempotencyKey: `run_de${keys}:send_customer_email`,
      runId: `run_de${keys}`,
      to,
      locale: 'de-DE',
      data: {
        customer: { name: 'Käthe Müller', email: to },
        invoice: { number: 'INV-7', total: 123456, currency: 'EUR', due_date: '2026-02-04' },
      },
      attachments: [{ filename: 'INV-7.pdf', content: await invoicePdf(), contentType: 'application/pdf' }],
    });
    assert.equal('status' in result && result.status, 'sent');
    const mail = smtp.received.find((m) => m.to.includes(to))?.mail;
    assert.ok(mail, 'received');
    assert.equal(mail.subject, 'Rechnung INV-7: 1.234,56 €, fällig am 4. Februar 2026');
    assert.match(String(mail.text), /Guten Tag Käthe Müller/);
    assert.match(String(mail.html), /Acme Cloud/);
    assert.equal(mail.attachments[0]?.content.subarray(0, 4).toString('latin1'), '%PDF');

    await updateNotificationSettings(db, 'invoice_created', { customer_email: false });
    const skipped = await sendCustomerEmail(db, deps, {
      event: 'invoice_created',
      idempotencyKey: `run_off${keys}:send_customer_email`,
      to,
      data: {},
    });
    assert.deepEqual(skipped, { status: 'skipped', reason: 'customer emails for invoice_created are off' });
  });

  test('SMTP: 5xx recipient rejection is permanent, 4xx is retryable and its retry is no duplicate', async () => {
    const db = await database();
    const transport = smtpTransport();
    smtp.rejectRecipient = (address) =>
      address.startsWith('gone') ? 550 : address.startsWith('busy') ? 451 : undefined;
    try {
      const gone = message({ to: 'gone@example.com' });
      await assert.rejects(sendEmail(db, transport, gone), PermanentError);
      assert.equal((await getSend(db, gone.sendKey))?.status, 'failed');

      const busy = message({ to: 'busy@example.com' });
      await assert.rejects(sendEmail(db, transport, busy), RetryableError);
      smtp.rejectRecipient = () => undefined;
      const retried = await sendEmail(db, transport, busy);
      assert.equal(retried.possible_duplicate, false, 'the server refused the first attempt: no duplicate');
      assert.equal(retried.attempts, 2);
    } finally {
      smtp.rejectRecipient = () => undefined;
    }
  });

  test('SMTP down → RetryableError (not delivered); back up → sent once, not flagged', async () => {
    const db = await database();
    const transport = smtpTransport();
    const msg = message({ text: `mark-${keys}-down` });
    await smtp.stop();
    try {
      await assert.rejects(sendEmail(db, transport, msg), (error: unknown) => {
        assert.ok(error instanceof RetryableError);
        assert.match(error.message, /ECONNREFUSED/);
        return true;
      });
      assert.equal((await getSend(db, msg.sendKey))?.status, 'failed');
    } finally {
      await smtp.restart();
    }
    const sent = await sendEmail(db, transport, msg);
    assert.equal(sent.possible_duplicate, false);
    assert.equal(received(msg.text).length, 1);
  });

  test('SMTP: a burst of emails shares a few open connections, and later emails reuse them', async () => {
    const db = await database();
    const transport = smtpTransport();
    try {
      const before = smtp.connections;
      const burst = Array.from({ length: 20 }, (_, i) => message({ text: `mark-${keys}-burst-${i}` }));
      const sent = await Promise.all(burst.map((m) => sendEmail(db, transport, m)));
      assert.ok(sent.every((s) => s.status === 'sent' && !s.possible_duplicate));
      for (const m of burst) assert.equal(received(m.text).length, 1, `${m.text} arrived once`);
      const opened = smtp.connections - before;
      assert.ok(opened >= 1 && opened <= 5, `20 emails over ${opened} connections (at most 5 at once)`);
      for (let i = 0; i < 3; i++) await sendEmail(db, transport, message({ text: `mark-${keys}-after-${i}` }));
      assert.equal(smtp.connections - before, opened, 'no new connection for emails after the burst');
    } finally {
      closeEmailTransport(transport);
    }
  });

  test('SMTP: a kept connection the server cut is replaced; the next email goes out once, not flagged', async () => {
    const db = await database();
    const transport = smtpTransport();
    try {
      await sendEmail(db, transport, message({ text: `mark-${keys}-first` }));
      const before = smtp.connections;
      smtp.dropConnections();
      const msg = message({ text: `mark-${keys}-after-cut` });
      const sent = await sendEmail(db, transport, msg);
      assert.equal(sent.possible_duplicate, false);
      assert.equal(sent.attempts, 1);
      assert.equal(received(msg.text).length, 1);
      assert.equal(smtp.connections, before + 1, 'a new connection');
      assert.equal((await getSend(db, msg.sendKey))?.status, 'sent');
    } finally {
      closeEmailTransport(transport);
    }
  });

  test('a send cut off after the message left is resent and flagged as a possible duplicate', async () => {
    const db = await database();
    const transport = smtpTransport();
    const msg = message({ text: `mark-${keys}-cut` });
    smtp.hangAfterData = true;
    try {
      await assert.rejects(sendEmail(db, transport, msg), RetryableError);
    } finally {
      smtp.hangAfterData = false;
    }
    assert.equal((await getSend(db, msg.sendKey))?.status, 'sending', 'unknown outcome stays in the send window');
    const resent = await sendEmail(db, transport, msg);
    assert.equal(resent.possible_duplicate, true);
    assert.equal(resent.attempts, 2);
    assert.equal(received(msg.text).length, 2, 'the recipient really has two copies, and the record says so');
    const [record] = await listSends(db, msg.runId as string);
    assert.equal(record?.possible_duplicate, true);
  });

  test('no SMTP_URL: the email and its PDF go to the outbox, exactly once even when sent in parallel', async () => {
    const db = await database();
    const transport = createEmailTransport({ from: FROM });
    const pdf = await invoicePdf();
    const msg = message({ attachments: [{ filename: 'INV-0042.pdf', content: pdf, contentType: 'application/pdf' }] });
    const results = await Promise.all(Array.from({ length: 8 }, () => sendEmail(db, transport, msg)));
    assert.equal(results.filter((r) => !r.already_sent).length, 1);
    assert.ok(results.every((r) => r.transport === 'outbox' && !r.possible_duplicate));
    const page = await listOutbox(db, { limit: 500 });
    const mine = page.items.filter((item) => item.send_key === msg.sendKey);
    const [listed] = mine;
    assert.ok(listed && mine.length === 1);
    assert.equal(listed.attachment_count, 1);
    const stored = await getOutboxEmail(db, listed.id);
    assert.deepEqual(stored.to_addresses, ['ada@example.com']);
    assert.equal(stored.subject, 'Invoice INV-0042');
    assert.equal(stored.from_address, FROM);
    assert.deepEqual(stored.attachments, [
      { position: 0, filename: 'INV-0042.pdf', content_type: 'application/pdf', size: pdf.length },
    ]);
    const file = await getOutboxAttachment(db, stored.id, 0);
    assert.ok(file.content.equals(pdf));
  });

  test('outbox after an SMTP attempt left the key in the send window → flagged', async () => {
    const db = await database();
    const msg = message({ text: `mark-${keys}-switch` });
    smtp.hangAfterData = true;
    try {
      await assert.rejects(sendEmail(db, smtpTransport(), msg), RetryableError);
    } finally {
      smtp.hangAfterData = false;
    }
    const outboxed = await sendEmail(db, createEmailTransport({ from: FROM }), msg);
    assert.equal(outboxed.transport, 'outbox');
    assert.equal(outboxed.possible_duplicate, true);
  });

  test('bad addresses are refused before anything is recorded', async () => {
    const db = await database();
    const msg = message({ to: ['ok@example.com', 'not an address'] });
    await assert.rejects(sendEmail(db, createEmailTransport({ from: FROM }), msg), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError);
      assert.deepEqual(error.errors, [{ field: 'to[1]', message: 'is not an email address' }]);
      return true;
    });
    assert.equal(await getSend(db, msg.sendKey), undefined);
  });
});

test('SMTP_URL must be smtp:// or smtps://', () => {
  assert.throws(() => createEmailTransport({ smtpUrl: 'http://x', from: FROM }), InvalidInputError);
  assert.throws(() => createEmailTransport({ smtpUrl: 'nonsense', from: FROM }), InvalidInputError);
});
