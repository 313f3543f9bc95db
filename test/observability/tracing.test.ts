import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { RetryableError } from '../../src/errors.ts';
import { createRegistry, defineWorkflow, startWorkflow, withStartHooks } from '../../src/engine/index.ts';
import type { Registry } from '../../src/engine/index.ts';
import { buildServer } from '../../src/http/server.ts';
import { Type } from 'typebox';
import { route } from '../../src/http/route.ts';
import { loadTracing } from '../../src/observability/index.ts';
import type { Tracing } from '../../src/observability/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import type { PaymentProvider } from '../../src/providers/index.ts';
import { TEST_DATABASES, eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';
import { startReceiver } from '../notify/support/http.ts';
import type { TestReceiver } from '../notify/support/http.ts';

// The collector: a real HTTP server in this process that takes OTLP/HTTP exports (JSON, as
// @opentelemetry/exporter-trace-otlp-http sends them); a second one stands in for Slack.
let collector: TestReceiver;
let slack: TestReceiver;
before(async () => {
  collector = await startReceiver();
  slack = await startReceiver();
});
after(async () => {
  await collector.stop();
  await slack.stop();
});

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  status?: { code?: number; message?: string };
}
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
  statusCode: number;
  service: string | undefined;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

function valueOf(value: OtlpValue): string | number | boolean | undefined {
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue;
}

/** Every span the collector received, whatever batches they came in. */
function exported(path: string): ExportedSpan[] {
  return collector.received
    .filter((r) => r.path === path)
    .flatMap((r) => (r.json as OtlpExport).resourceSpans ?? [])
    .flatMap((resource) => {
      const service = resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
      return (resource.scopeSpans ?? []).flatMap((scope) =>
        (scope.spans ?? []).map((span) => ({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          name: span.name,
          kind: span.kind,
          attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
          statusCode: span.status?.code ?? 0,
          service,
        })),
      );
    });
}

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

const childFlow = defineWorkflow<{ parent: string }>({
  type: 'traced_child',
  steps: [{ name: 'notify', kind: 'external', async run() {} }],
});

function tracedFlow(tracing: Tracing, provider: PaymentProvider, slackUrl: string, registry: () => Registry) {
  const post = tracing.tracedFetch(fetch);
  return defineWorkflow<{ customer: string }>({
    type: 'traced',
    steps: [
      {
        // A db step starts a run of its own, in its transaction (as billing steps do).
        name: 'record',
        kind: 'db',
        async run(ctx) {
          await startWorkflow(ctx.tx, registry(), { type: 'traced_child', input: { parent: ctx.runId } });
        },
      },
      {
        name: 'call_out',
        kind: 'external',
        async run(ctx) {
          await provider.ensureCustomer({
            idempotencyKey: ctx.idempotencyKey,
            customerId: ctx.input.customer,
            email: `${ctx.input.customer}@example.com`,
          });
          const response = await post(slackUrl, { method: 'POST', body: JSON.stringify({ text: ctx.runId }) });
          return response.status;
        },
      },
      {
        name: 'flaky',
        kind: 'external',
        retry: { maxAttempts: 3, initialDelayMs: 0, jitter: 0 },
        async run(ctx) {
          // The first attempt of cus_a's run fails; every other attempt passes.
          if (ctx.input.customer === 'cus_a' && ctx.attempt === 1) throw new RetryableError('provider timeout');
        },
      },
    ],
  });
}

function startRoute(db: Parameters<typeof startWorkflow>[0], registry: () => Registry) {
  return route({
    method: 'POST',
    url: '/test-runs',
    operationId: 'startTestRun',
    access: 'public',
    summary: 'Start a traced run (test)',
    tags: ['Test'],
    body: Type.Object({ customer: Type.String() }, { additionalProperties: false }),
    response: { 201: { type: 'object', properties: { run_id: { type: 'string' } } } },
    async handler(ctx) {
      const started = await startWorkflow(db, registry(), { type: 'traced', input: { customer: ctx.body.customer } });
      return { status: 201, body: { run_id: started.runId } };
    },
  });
}

eachDatabase((kind) => {
  test('one trace per run: the request that started it, a span per step attempt, and its calls out', async () => {
    const { db } = await freshDatabase(kind);
    const path = `/${kind}/v1/traces`;
    const tracing = await loadTracing(
      { tracesUrl: `${collector.url}${path}`, serviceName: 'billflow-test', exportDelayMs: 20 },
      { db },
    );
    assert.ok(tracing);
    const provider = tracing.tracedProvider(createSandboxProvider({ db }));
    const flow = tracedFlow(tracing, provider, `${slack.url}/${kind}/slack`, () => registry);
    const registry: Registry = withStartHooks(createRegistry([flow, childFlow]), tracing.startHooks);
    const app = buildServer({ db, routes: () => [startRoute(db, () => registry)], observability: { tracing } });
    await app.ready();

    // One request comes with its caller's trace context, one without.
    const traced = await app.inject({
      method: 'POST',
      url: '/api/v1/test-runs',
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
      payload: { customer: 'cus_a' },
    });
    assert.equal(traced.statusCode, 201, traced.body);
    const untraced = await app.inject({ method: 'POST', url: '/api/v1/test-runs', payload: { customer: 'cus_b' } });
    assert.equal(untraced.statusCode, 201, untraced.body);
    const runA = traced.json().run_id as string;
    const runB = untraced.json().run_id as string;

    const worker = testWorker(db, [flow, childFlow], { hooks: tracing.engineHooks });
    await worker.drain();
    await tracing.flush();
    await app.close();

    const spans = exported(path);
    assert.ok(spans.length > 0, 'the collector received spans');
    assert.ok(
      spans.every((s) => s.service === 'billflow-test'),
      'the service names itself',
    );
    const stepSpans = (runId: string) => spans.filter((s) => s.attributes['billflow.run.id'] === runId);
    const byId = new Map(spans.map((s) => [s.spanId, s]));

    for (const [runId, expectedTrace] of [
      [runA, CALLER_TRACE],
      [runB, undefined],
    ] as const) {
      const steps = stepSpans(runId);
      assert.deepEqual(
        steps.map((s) => [s.name, s.attributes['billflow.step.attempt'], s.attributes['billflow.step.outcome']]).sort(),
        [
          ['traced call_out', 1, 'completed'],
          ['traced record', 1, 'completed'],
          ...(runId === runA
            ? [
                ['traced flaky', 1, 'retrying'],
                ['traced flaky', 2, 'completed'],
              ]
            : [['traced flaky', 1, 'completed']]),
        ].sort(),
      );
      for (const s of steps) {
        assert.equal(s.attributes['billflow.workflow.type'], 'traced');
        assert.equal(typeof s.attributes['billflow.step.name'], 'string');
      }
      const traces = new Set(steps.map((s) => s.traceId));
      assert.equal(traces.size, 1, `${runId}: one trace`);
      if (expectedTrace) assert.equal([...traces][0], expectedTrace, 'the caller’s trace goes on');

      // Every attempt hangs off the run's start span, which hangs off the request's span.
      const parents = new Set(steps.map((s) => s.parentSpanId));
      assert.equal(parents.size, 1);
      const startSpan = byId.get([...parents][0] as string);
      assert.equal(startSpan?.name, 'start traced');
      const request = byId.get(startSpan?.parentSpanId ?? '');
      assert.equal(request?.name, 'POST /api/v1/test-runs');
      assert.equal(request?.kind, SERVER);
      assert.equal(request?.attributes['http.route'], '/api/v1/test-runs');
      assert.equal(request?.attributes['http.response.status_code'], 201);
      assert.equal(request?.parentSpanId, expectedTrace ? CALLER_SPAN : '', 'a request without context is a root');

      // The calls out are children of the attempt that made them.
      const callOut = steps.find((s) => s.name === 'traced call_out');
      const calls = spans.filter((s) => s.parentSpanId === callOut?.spanId);
      assert.deepEqual(calls.map((s) => [s.name, s.kind]).sort(), [
        ['POST', CLIENT],
        ['sandbox ensureCustomer', CLIENT],
      ]);
      const post = calls.find((s) => s.name === 'POST');
      assert.equal(post?.attributes['http.response.status_code'], 200);
      assert.equal(post?.attributes['server.address'], '127.0.0.1');
      // The receiver got the trace context of that client span.
      const delivered = slack.received.find((r) => r.body.includes(runId));
      assert.equal(delivered?.headers.traceparent, `00-${post?.traceId}-${post?.spanId}-01`);
    }
    assert.notEqual(stepSpans(runA)[0]?.traceId, stepSpans(runB)[0]?.traceId, 'two runs, two traces');

    // A run started by a step is in the trace of that step's attempt, even though the db steps
    // of both runs may have shared one group commit.
    const { rows: children } = await db.query<{ id: string; parent: string }>(
      `SELECT id, input->>'parent' AS parent FROM workflow_runs WHERE type = 'traced_child'`,
    );
    assert.equal(children.length, 2);
    for (const child of children) {
      const [notify] = stepSpans(child.id);
      const record = stepSpans(child.parent).find((s) => s.name === 'traced record');
      const childStart = byId.get(notify?.parentSpanId ?? '');
      assert.equal(childStart?.name, 'start traced_child');
      assert.equal(childStart?.parentSpanId, record?.spanId, `the child of ${child.parent} hangs off its record step`);
      assert.equal(notify?.traceId, record?.traceId);
    }
    const retried = stepSpans(runA).find((s) => s.attributes['billflow.step.outcome'] === 'retrying');
    assert.equal(retried?.statusCode, ERROR, 'a failed attempt is an error span');

    // The trace context is stored with the run, for whichever worker runs it, whenever.
    const { rows } = await db.query<{ trace_parent: string }>('SELECT trace_parent FROM workflow_runs WHERE id = $1', [
      runA,
    ]);
    assert.match(rows[0]?.trace_parent ?? '', new RegExp(`^00-${CALLER_TRACE}-[0-9a-f]{16}-01$`));
    await tracing.shutdown();
  });
});

test('a collector that cannot be reached costs the spans, never the service', async () => {
  const gone = await startReceiver();
  await gone.stop(); // a port where nothing listens any more
  const warnings: { obj: object; msg?: string }[] = [];
  const { db } = await freshDatabase(TEST_DATABASES[0] ?? 'pglite');
  const tracing = await loadTracing(
    { tracesUrl: `${gone.url}/v1/traces`, serviceName: 'billflow-test', exportDelayMs: 10 },
    { db, logger: { warn: (obj, msg) => void warnings.push({ obj, msg }) } },
  );
  assert.ok(tracing);
  const traceParent = tracing.startHooks.traceParent?.('traced');
  assert.match(traceParent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  await tracing.shutdown(); // resolves: the export failure is reported, not thrown
  assert.ok(
    warnings.some((w) => /spans/.test(w.msg ?? '')),
    JSON.stringify(warnings.map((w) => w.msg)),
  );
});

test('flush waits for a batch already on its way to the collector', async () => {
  // A collector that holds its first export until the test lets it answer.
  const bodies: string[] = [];
  let arrived!: () => void;
  const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
  let answerFirst!: () => void;
  const held = new Promise<void>((resolve) => (answerFirst = resolve));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (bodies.length === 1) {
        arrived();
        void held.then(answer);
      } else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as { port: number };

  const { db } = await freshDatabase(TEST_DATABASES[0] ?? 'pglite');
  const tracing = await loadTracing(
    { tracesUrl: `http://127.0.0.1:${port}/v1/traces`, serviceName: 'billflow-test', exportDelayMs: 10 },
    { db },
  );
  assert.ok(tracing);
  const response = await tracing.tracedFetch(fetch)(`${slack.url}/flush`, { method: 'POST', body: '{}' });
  assert.equal(response.status, 200);
  await firstArrived; // the processor's timer sent the span; the collector has not answered

  let flushed = false;
  const flushing = tracing.flush().then(() => (flushed = true));
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(flushed, false, 'flush resolved while a batch was still unanswered');
  answerFirst();
  await flushing;
  assert.equal(bodies.length, 1);
  assert.match(bodies[0] ?? '', /POST/);
  await tracing.shutdown();
});
