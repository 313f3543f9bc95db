import { after } from 'node:test';
import type { Db } from '../../src/db/types.ts';
import { createWorker, getRun } from '../../src/engine/index.ts';
import type { EngineHooks, Registry, RunDetail, Worker } from '../../src/engine/index.ts';
import { closeEmailTransport, createEmailTransport, createSlackEndpoint } from '../../src/notify/index.ts';
import type { NotifyDeps, UrlGuard } from '../../src/notify/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import type { PaymentProvider } from '../../src/providers/index.ts';
import { billingRegistry } from '../../src/billing/workflows/index.ts';
import type { BillingDeps } from '../../src/billing/workflows/index.ts';
import type { DatabaseKind } from '../../src/db/types.ts';
import { freshDatabase, testClock } from '../helpers/databases.ts';
import { startReceiver } from '../notify/support/http.ts';
import type { TestReceiver } from '../notify/support/http.ts';
import { startSmtpServer } from '../notify/support/smtp.ts';
import type { TestSmtpServer } from '../notify/support/smtp.ts';

export interface BillingHarness {
  db: Db;
  /** On PostgreSQL: a URL that reaches the same schema (for a second pool or process). */
  url?: string;
  clock: ReturnType<typeof testClock>;
  smtp: TestSmtpServer;
  /** A real HTTP server registered as the one enabled Slack endpoint. */
  slack: TestReceiver;
  provider: PaymentProvider;
  notify: NotifyDeps;
  registry: Registry;
  worker: Worker;
  /** Waits until the run is no longer pending or in progress (or, with `until`, until that holds). */
  settle(runId: string, until?: (run: RunDetail) => boolean, timeoutMs?: number): Promise<RunDetail>;
}

export interface HarnessOptions {
  /** Defaults to the sandbox on the test's database and clock. */
  provider?: (db: Db, now: () => Date) => PaymentProvider;
  dunningDays?: BillingDeps['dunningDays'];
  graceDays?: BillingDeps['graceDays'];
  hooks?: EngineHooks;
  /** Start the worker (default true); false to drive runs by hand. */
  startWorker?: boolean;
  /**
   * SMTP client timeouts. The defaults are patient: the embedded database shares this thread with
   * the in-process SMTP server, and on a busy machine a short timeout turns into a retry waiting
   * on the test clock. No harness test needs a hanging server (a stopped one refuses at once).
   */
  emailTimeouts?: { connectionTimeoutMs: number; greetingTimeoutMs: number; socketTimeoutMs: number };
  /** Where the test clock starts (signatures checked against the real time need it near now). */
  clockStart?: Date;
  /** Where custom webhook steps may send (e.g. 127.0.0.1 for a receiver in the test). */
  webhookGuard?: UrlGuard;
}

/** SMTP client timeouts for a busy 2-core machine: mail only has to arrive. */
const PATIENT_EMAIL = { connectionTimeoutMs: 10_000, greetingTimeoutMs: 10_000, socketTimeoutMs: 20_000 };

/**
 * Everything an end-to-end billing test needs, all real: a fresh database, an SMTP server and a
 * Slack receiver in this process, the sandbox provider (or one given), the seven workflows and a
 * live worker on an injected clock (advance it to make durable waits due without sleeping).
 * Everything stops when the test file ends.
 */
export async function billingHarness(kind: DatabaseKind, options: HarnessOptions = {}): Promise<BillingHarness> {
  const { db, url } = await freshDatabase(kind);
  const clock = testClock(options.clockStart);
  const smtp = await startSmtpServer();
  const slack = await startReceiver();
  await createSlackEndpoint(db, { name: 'billing', url: slack.url });
  const notify: NotifyDeps = {
    email: createEmailTransport({
      smtpUrl: smtp.url,
      from: 'Acme Billing <billing@acme.test>',
      timeouts: options.emailTimeouts ?? PATIENT_EMAIL,
    }),
    fetch: globalThis.fetch,
    clock: clock.now,
    adminUrl: 'http://billflow.test',
    company: { name: 'Acme', support_email: 'support@acme.test' },
  };
  const provider = options.provider ? options.provider(db, clock.now) : createSandboxProvider({ db, now: clock.now });
  const registry = billingRegistry({
    db,
    provider,
    notify,
    dunningDays: options.dunningDays,
    graceDays: options.graceDays,
    webhookGuard: options.webhookGuard,
  });
  const worker = createWorker(db, { registry, pollIntervalMs: 50, clock: clock.now, hooks: options.hooks });
  if (options.startWorker !== false) await worker.start();
  after(async () => {
    await worker.stop({ graceMs: 1000 });
    closeEmailTransport(notify.email);
    await smtp.stop();
    await slack.stop();
  });

  async function settle(runId: string, until?: (run: RunDetail) => boolean, timeoutMs = 20_000) {
    const done = until ?? ((run: RunDetail) => run.status !== 'pending' && run.status !== 'in_progress');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await getRun(db, runId);
      if (done(run)) return run;
      if (Date.now() > deadline) {
        throw new Error(`run ${runId} did not settle: ${run.status} at ${run.current_step ?? '-'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  return { db, url, clock, smtp, slack, provider, notify, registry, worker, settle };
}
