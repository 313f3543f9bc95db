import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../../../src/config.ts';
import { createApiKey } from '../../../src/http/auth/api-keys.ts';
import { createLogger, startService } from '../../../src/main.ts';
import type { AdapterFactory } from '../harness.ts';

/** A real SMTP server in this process that takes every message and counts it. */
async function startSmtpSink(): Promise<{ url: string; received: () => number; stop: () => Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        received++;
        callback();
      });
      stream.resume();
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * End-to-end billing: the service as `billflow start` runs it (HTTP API, workers, maintenance, the
 * sandbox payment provider), with its email going to an SMTP server in this process. A run is
 * started by `POST /api/v1/payments` (status succeeded), which starts `payment_success`: record the
 * payment (inline, in the request's transaction), render the receipt PDF, update the statistics,
 * email the customer with the receipt attached, post the team notice (in-app). Completion comes
 * from the engine's hook after the last step's checkpoint commits, as for the other workloads.
 */
export const service: AdapterFactory = async (task, onCompleted) => {
  const t = task.tuning;
  const smtp = await startSmtpSink();
  const config = loadConfig({
    ...(task.database === 'postgres' ? { DATABASE_URL: task.target } : { BILLFLOW_DATA_DIR: task.target }),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'error',
    SMTP_URL: smtp.url,
    BILLFLOW_WORKER_CONCURRENCY: String(t.concurrency),
    BILLFLOW_POLL_INTERVAL_MS: String(t.billflowPollIntervalMs),
  });
  const running = await startService(config, createLogger(config), {
    api: true,
    workers: true,
    hooks: {
      onRunCompleted: (event) => {
        if (event.type === 'payment_success') onCompleted(event.runId);
      },
    },
  });
  const base = `${running.url ?? ''}/api/v1`;
  const { key } = await createApiKey(running.db, {
    name: 'bench',
    role: 'admin',
    expiresAt: null,
    createdBy: null,
    now: new Date(),
  });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  async function post(path: string, body: unknown, idempotencyKey?: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: idempotencyKey ? { ...headers, 'idempotency-key': idempotencyKey } : headers,
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status !== 201) throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  }

  // The customers, made through the API before anything is measured: `customers` of them, or one
  // per payment. Payments of one customer run one at a time (the workflow's concurrency key).
  const count = task.customers > 0 ? task.customers : task.warmupRuns + task.runs + task.idleRuns;
  const customerIds: string[] = new Array<string>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(task.submitters, count) }, async () => {
      while (next < count) {
        const i = next++;
        const { customer } = (await post('/customers', { email: `c${i}@bench.example`, name: `Customer ${i}` })) as {
          customer: { id: string };
        };
        customerIds[i] = customer.id;
      }
    }),
  );

  return {
    notes:
      `payment_success through the HTTP API, ${task.customers > 0 ? `${count} customers` : 'one customer per payment'}, ` +
      `worker concurrency ${t.concurrency}, the service's default pool, email to SMTP in process`,
    async start(n) {
      const answer = await post(
        '/payments',
        { customer_id: customerIds[n % count], amount: 1_000 + (n % 1_000), currency: 'USD', status: 'succeeded' },
        `bench-payment-${n}`,
      );
      return String(answer.workflow_run_id);
    },
    async verify(runs) {
      // Each completed payment_success run emailed its customer (the receipt) and left a notice.
      const { rows } = await running.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM notifications WHERE kind = 'notice'",
      );
      const [mails, notices] = [smtp.received(), rows[0]?.n];
      if (mails !== runs || notices !== runs) {
        throw new Error(`billing: ${mails} emails and ${notices} team notices for ${runs} completed payments`);
      }
      return `${mails} receipts emailed over SMTP and ${notices} team notices, one per payment`;
    },
    async stop() {
      await running.close();
      await smtp.stop();
    },
  };
};
