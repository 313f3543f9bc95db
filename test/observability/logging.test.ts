import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { RetryableError } from '../../src/errors.ts';
import { createRegistry, defineWorkflow, startWorkflow } from '../../src/engine/index.ts';
import { createLogger, failureLogHooks } from '../../src/observability/index.ts';
import type { LogFormat } from '../../src/observability/index.ts';
import { buildServer } from '../../src/http/server.ts';
import { TEST_DATABASES, eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';

/** A logger writing into memory, as the service's would write to stdout. */
function capture(format: LogFormat = 'json', level = 'info') {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level, format, destination });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown> & { level: number; msg: string });
  return { logger, text, lines };
}

const hooksSettled = () => new Promise((resolve) => setImmediate(resolve));

eachDatabase((kind) => {
  test('one warn line per failed attempt and one error line per failed run, naming the run', async () => {
    const { db } = await freshDatabase(kind);
    const flow = defineWorkflow<{ fail: boolean }>({
      type: 'logged',
      steps: [
        {
          name: 'notify_team',
          kind: 'external',
          retry: { maxAttempts: 2, initialDelayMs: 0, jitter: 0 },
          async run(ctx) {
            if (ctx.input.fail) throw new RetryableError('connect ECONNREFUSED smtp://mailer:hunter2@mail.test:25');
          },
        },
      ],
    });
    const registry = createRegistry([flow]);
    const failing = await startWorkflow(db, registry, { type: 'logged', input: { fail: true } });
    await startWorkflow(db, registry, { type: 'logged', input: { fail: false } });
    const { logger, lines, text } = capture();
    const worker = testWorker(db, [flow], { hooks: failureLogHooks(logger.child({ component: 'worker' })) });
    await worker.drain();
    await hooksSettled();

    const warn = lines().filter((l) => l.level === 40);
    const error = lines().filter((l) => l.level === 50);
    assert.deepEqual(
      warn.map((l) => [l.runId, l.type, l.step, l.attempt, l.msg]),
      [
        [failing.runId, 'logged', 'notify_team', 1, 'step attempt failed; it will be retried'],
        [failing.runId, 'logged', 'notify_team', 2, 'step attempt failed'],
      ],
    );
    assert.ok(typeof warn[0]?.retryAt === 'string', 'the first says when it is tried again');
    assert.equal(error.length, 1, 'one line for the run');
    const [failed] = error;
    assert.deepEqual(
      [failed?.runId, failed?.type, failed?.step, failed?.attempt, failed?.msg],
      [failing.runId, 'logged', 'notify_team', 2, 'run failed'],
    );
    assert.equal(failed?.component, 'worker');
    const err = failed?.err as { type: string; message: string; stack: string };
    assert.equal(err.type, 'RetryableError');
    assert.match(err.message, /ECONNREFUSED smtp:\/\/mailer:\[redacted\]@mail\.test:25/);
    assert.ok(!text().includes('hunter2'), 'the password in the error is not logged');
    assert.equal(lines().length, 3, 'nothing for the run that completed');
  });
});

test('secrets are redacted wherever the service logs them', () => {
  const { logger, lines, text } = capture();
  logger.info(
    {
      headers: { authorization: 'Bearer bf_live_secret', cookie: 'billflow_session=s3ss10n', accept: 'json' },
      request: {
        headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-csrf-token': 'csrf-value-9', 'x-request-id': 'r1' },
      },
      res: { headers: { 'set-cookie': 'billflow_session=n3w' } },
      apiKey: 'bf_live_key',
      endpoint: { name: 'ops', secret: 'whsec_abcdef', url: 'https://hooks.example/ok' },
      config: { smtpUrl: 'smtps://mailer:p4ssw0rd@smtp.example:465', databaseUrl: 'postgres://u:pgpass@db/x' },
      password: 'correct horse',
      stripe: { webhookSecret: 'whsec_stripe', secretKey: 'sk_live_123' },
    },
    'connecting to smtp://mailer:inline-pass@smtp.example',
  );
  logger.error({ err: new Error('auth failed for postgres://billflow:db-pass@db.internal/billflow') }, 'db down');
  const [first, second] = lines();
  for (const secret of [
    'bf_live_secret',
    's3ss10n',
    'dXNlcjpwYXNz',
    'csrf-value-9',
    'n3w',
    'bf_live_key',
    'whsec_abcdef',
    'p4ssw0rd',
    'pgpass',
    'correct horse',
    'whsec_stripe',
    'sk_live_123',
    'inline-pass',
    'db-pass',
  ]) {
    assert.ok(!text().includes(secret), `${secret} leaked: ${text()}`);
  }
  // What is not a secret stays, so the line is still useful.
  assert.deepEqual(first?.headers, { authorization: '[redacted]', cookie: '[redacted]', accept: 'json' });
  assert.deepEqual((first?.request as { headers: Record<string, string> }).headers, {
    authorization: '[redacted]',
    'x-csrf-token': '[redacted]',
    'x-request-id': 'r1',
  });
  assert.deepEqual(first?.endpoint, { name: 'ops', secret: '[redacted]', url: 'https://hooks.example/ok' });
  assert.equal(
    (first?.config as Record<string, string>).smtpUrl,
    'smtps://mailer:[redacted]@smtp.example:465',
    'a URL keeps its host and user',
  );
  assert.equal(first?.msg, 'connecting to smtp://mailer:[redacted]@smtp.example');
  assert.match(String((second?.err as { message: string }).message), /postgres:\/\/billflow:\[redacted\]@db\.internal/);
});

test("request logs: Fastify's request line hides secret query parameters; the setup link is logged whole", async () => {
  const { logger, lines } = capture('json', 'info');
  const { db } = await freshDatabase(TEST_DATABASES[0] ?? 'pglite');
  const app = buildServer({ db, routes: () => [], logger: logger.child({ component: 'http' }) });
  await app.inject({ method: 'GET', url: '/healthz?token=setup-token-1&page=2' });
  await app.close();
  const incoming = lines().find((l) => l.msg === 'incoming request');
  assert.equal((incoming?.req as { url: string }).url, '/healthz?token=[redacted]&page=2');
  const link = 'http://127.0.0.1:3000/setup?token=one-time';
  logger.warn({ setup_link: link }, `No user yet: create the first admin at ${link}`);
  const setup = lines().at(-1);
  assert.equal(setup?.setup_link, link);
  assert.equal(setup?.msg, `No user yet: create the first admin at ${link}`);
});

test('on a terminal the lines are readable (pino-pretty), still without secrets', () => {
  const { logger, text } = capture('pretty');
  logger.warn({ runId: 'run_1', authorization: 'Bearer bf_x' }, 'step attempt failed');
  const out = text();
  assert.match(out, /WARN/);
  assert.match(out, /step attempt failed/);
  assert.match(out, /runId: "run_1"/);
  assert.ok(!out.trimStart().startsWith('{'), 'not JSON');
  assert.ok(!out.includes('bf_x'));
});
