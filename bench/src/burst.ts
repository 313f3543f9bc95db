// `npm run bench -- --burst`: the memory of `billflow start` (the compiled CLI, as users run it)
// under a burst of API writes. It starts the process on a fresh database, reads its resident set
// from /proc while idle, during `--burst-payments` POST /api/v1/payments (`--burst-in-flight` at a
// time, each starting a payment_success run: receipt PDF, statistics, email over SMTP, team
// notice) until every run has completed, and again after `--burst-settle-s` seconds of quiet.
import { readFileSync, writeFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';
import type { DatabaseName } from './protocol.ts';
import { freshTarget } from './targets.ts';
import { sleep, startBillflow } from './billflow-process.ts';
import type { BillflowProcess } from './billflow-process.ts';

/** Peak RSS targets of `billflow start` during the burst, in MB. */
const PEAK_TARGET: Record<DatabaseName, number> = { postgres: 200, pglite: 220 };
/** "Back near idle": at most this much above the idle figure 15 s after the burst, in MB. */
const AFTER_MARGIN = 30;

/** The report's lines for the memory bursts, each against its target. */
export function burstLines(bursts: readonly BurstResult[]): string[] {
  if (bursts.length === 0) return [];
  return [
    '',
    'billflow start under an API burst (resident set from /proc):',
    ...bursts.map((b) => {
      const name = b.database === 'postgres' ? 'PostgreSQL' : 'embedded';
      const peakOk = b.peak_rss_mb <= PEAK_TARGET[b.database];
      const afterOk = b.after_rss_mb <= b.idle_rss_mb + AFTER_MARGIN;
      return (
        `- ${name}: ${b.payments} payments, ${b.in_flight} in flight, ${b.payments_per_s}/s — idle ${b.idle_rss_mb} MB, ` +
        `peak ${b.peak_rss_mb} MB (target ≤ ${PEAK_TARGET[b.database]}: ${peakOk ? 'met' : 'not met'}), ` +
        `after ${b.after_rss_mb} MB (≤ idle + ${AFTER_MARGIN}: ${afterOk ? 'met' : 'not met'})`
      );
    }),
  ];
}

export interface BurstSettings {
  payments: number;
  inFlight: number;
  settleSeconds: number;
}

export interface BurstResult {
  database: DatabaseName;
  payments: number;
  in_flight: number;
  idle_rss_mb: number;
  peak_rss_mb: number;
  after_rss_mb: number;
  seconds: number;
  payments_per_s: number;
}

/** VmRSS and VmHWM (the peak since the last reset) of a process, in MB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Sets the process's peak back to its current resident set (Linux: clear_refs "5"). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

async function smtpSink(): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('end', () => callback());
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function measureBurst(
  database: DatabaseName,
  settings: BurstSettings,
  adminUrl: string,
): Promise<BurstResult> {
  const target = await freshTarget(database, 'burst', adminUrl, { dataSubdir: 'data' });
  const smtp = await smtpSink();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(database === 'postgres' ? { DATABASE_URL: target.location } : { BILLFLOW_DATA_DIR: target.location }),
    SMTP_URL: smtp.url,
  };
  if (database === 'pglite') delete env.DATABASE_URL;
  let service: BillflowProcess | undefined;
  try {
    service = await startBillflow(env);
    const { base, headers, pid, child } = service;
    const post = async (route: string, body: unknown): Promise<Record<string, unknown>> => {
      const response = await fetch(`${base}/api/v1${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
      const answer = (await response.json()) as Record<string, unknown>;
      if (response.status !== 201) throw new Error(`POST ${route}: ${response.status} ${JSON.stringify(answer)}`);
      return answer;
    };
    const inParallel = async (count: number, fn: (i: number) => Promise<void>) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(settings.inFlight, count) }, async () => {
          while (next < count) await fn(next++);
        }),
      );
    };

    // One customer per payment, made before the measured burst.
    const customers: string[] = [];
    await inParallel(settings.payments, async (i) => {
      const { customer } = (await post('/customers', { email: `b${i}@burst.example`, name: `Burst ${i}` })) as {
        customer: { id: string };
      };
      customers[i] = customer.id;
    });
    await sleep(5_000);
    const idle = memoryOf(pid).rss;
    resetPeak(pid);

    const began = Date.now();
    await inParallel(settings.payments, async (i) => {
      await post('/payments', { customer_id: customers[i], amount: 1_000 + i, currency: 'USD', status: 'succeeded' });
    });
    // Until every payment_success run has completed (the run counters the menus read).
    for (;;) {
      const response = await fetch(`${base}/api/v1/workflows/counts`, { headers });
      const { items } = (await response.json()) as { items: { type: string; status: string; count: number }[] };
      const done = items.find((c) => c.type === 'payment_success' && c.status === 'completed')?.count ?? 0;
      if (done >= settings.payments) break;
      if (child.exitCode !== null) throw new Error('billflow start exited during the burst');
      await sleep(250);
    }
    const seconds = (Date.now() - began) / 1000;
    const peak = memoryOf(pid).peak;
    await sleep(settings.settleSeconds * 1000);
    const after = memoryOf(pid).rss;
    const mb = (n: number) => Math.round(n);
    return {
      database,
      payments: settings.payments,
      in_flight: settings.inFlight,
      idle_rss_mb: mb(idle),
      peak_rss_mb: mb(peak),
      after_rss_mb: mb(after),
      seconds: Math.round(seconds * 10) / 10,
      payments_per_s: Math.round(settings.payments / seconds),
    };
  } finally {
    await service?.stop();
    await smtp.stop();
    await target.dispose();
  }
}
