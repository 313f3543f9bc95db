// OpenTelemetry behind the tracing seam (loaded by loadTracing only when an endpoint is set).
// Nothing is registered globally: this tracer, its context manager and its propagator belong to
// one service instance, and only the code handed them (HTTP hooks, the engine's step scope, the
// fetch and provider wrappers) makes spans. No module is patched.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Db } from '../db/types.ts';
import type { StepAttemptEvent } from '../engine/index.ts';
import type { FetchFn } from '../notify/index.ts';
import type { PaymentProvider } from '../providers/index.ts';
import type { RequestSpan, Tracing, TracingSettings } from './tracing.ts';

// Runs whose stored trace context is known, so that only a run's first attempt in this process
// reads it. Forgotten when the run ends here; bounded, the oldest first (such a run reads it again).
const MAX_CACHED_RUNS = 10_000;

function errorOf(error: unknown): { name: string; message: string; stack?: string } {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    const e = error as { name?: unknown; message: string; stack?: unknown };
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: e.message,
      stack: typeof e.stack === 'string' ? e.stack : undefined,
    };
  }
  return { name: 'Error', message: String(error) };
}

function failSpan(span: Span, error: unknown): void {
  const e = errorOf(error);
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}

export interface OtelDeps {
  db: Db;
  /** Where a failed export is reported (at most once a minute): spans are dropped, never retried. */
  logger?: { warn(obj: object, msg?: string): void };
}

const EXPORT_WARNING_INTERVAL_MS = 60_000;

/**
 * The OTLP exporter, telling the logger when the collector cannot be reached. Its forceFlush
 * waits for exports already under way: the batch processor's own flush sends what is buffered
 * but does not wait for a batch its timer started moments before.
 */
function reportingExporter(inner: SpanExporter, settings: TracingSettings, deps: OtelDeps): SpanExporter {
  let warnedAt = -Infinity;
  const pending = new Set<Promise<void>>();
  return {
    export(spans, done) {
      let finished!: () => void;
      const exported = new Promise<void>((resolve) => (finished = resolve));
      pending.add(exported);
      void exported.then(() => pending.delete(exported));
      inner.export(spans, (result) => {
        finished();
        if (result.code !== ExportResultCode.SUCCESS && Date.now() - warnedAt >= EXPORT_WARNING_INTERVAL_MS) {
          warnedAt = Date.now();
          deps.logger?.warn(
            { err: result.error, url: settings.tracesUrl, spans: spans.length },
            'exporting spans failed; they are dropped (warned at most once a minute)',
          );
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    async forceFlush() {
      await Promise.all([...pending]);
      await inner.forceFlush?.();
    },
  };
}

const FAILED_OUTCOMES = new Set<StepAttemptEvent['outcome']>(['retrying', 'failed', 'rejected', 'unrecorded']);

export function createOtelTracing(settings: TracingSettings, deps: OtelDeps): Tracing {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const propagator = new W3CTraceContextPropagator();
  const exporter = reportingExporter(
    new OTLPTraceExporter({ url: settings.tracesUrl, headers: settings.headers }),
    settings,
    deps,
  );
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: settings.exportDelayMs ?? 1_000,
      }),
    ],
  });
  const tracer = provider.getTracer('billflow');

  function start(name: string, kind: SpanKind, attributes: Attributes, parent: Context, startTime?: number) {
    const span = tracer.startSpan(name, { kind, attributes, startTime }, parent);
    return { span, context: trace.setSpan(parent, span) };
  }

  function traceParentOf(context: Context): string | undefined {
    const carrier: Record<string, string> = {};
    propagator.inject(context, carrier, {
      set: (c, key, value) => {
        c[key] = value;
      },
    });
    return carrier.traceparent;
  }

  const parents = new Map<string, Promise<Context>>();
  function runContext(runId: string): Promise<Context> {
    let context = parents.get(runId);
    if (!context) {
      context = deps.db
        .query<{ trace_parent: string | null }>('SELECT trace_parent FROM workflow_runs WHERE id = $1', [runId], {
          name: 'billflow_run_trace_parent',
        })
        .then(
          ({ rows }) => {
            const traceparent = rows[0]?.trace_parent;
            return traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;
          },
          () => {
            // Not worth failing a step over: this attempt is traced on its own, the next reads again.
            parents.delete(runId);
            return ROOT_CONTEXT;
          },
        );
      parents.set(runId, context);
      if (parents.size > MAX_CACHED_RUNS) parents.delete(parents.keys().next().value as string);
    }
    return context;
  }

  return {
    engineHooks: {
      stepScope(attempt) {
        const began = Date.now();
        let span: Span | undefined;
        let spanContext: Context | undefined;
        return {
          async run(call) {
            const parent = await runContext(attempt.runId);
            const started = start(
              `${attempt.type} ${attempt.step}`,
              SpanKind.INTERNAL,
              {
                'billflow.run.id': attempt.runId,
                'billflow.workflow.type': attempt.type,
                'billflow.step.name': attempt.step,
                'billflow.step.attempt': attempt.attempt,
              },
              parent,
              began,
            );
            span = started.span;
            spanContext = started.context;
            return contextManager.with(started.context, call);
          },
          enter(code) {
            return spanContext ? contextManager.with(spanContext, code) : code();
          },
          end(event) {
            if (!span) return;
            span.setAttribute('billflow.step.outcome', event.outcome);
            if (FAILED_OUTCOMES.has(event.outcome)) {
              failSpan(span, event.error ?? `the attempt's result was ${event.outcome}`);
            }
            span.end();
          },
        };
      },
      onRunCompleted: (event) => void parents.delete(event.runId),
      onRunFailed: (event) => void parents.delete(event.runId),
    },
    startHooks: {
      traceParent(type) {
        const { span, context } = start(
          `start ${type}`,
          SpanKind.PRODUCER,
          { 'billflow.workflow.type': type },
          contextManager.active(),
        );
        span.end();
        return traceParentOf(context);
      },
    },
    startRequest({ method, path, headers }): RequestSpan {
      const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
      const { span, context } = start(
        method,
        SpanKind.SERVER,
        { 'http.request.method': method, 'url.path': path },
        parent,
      );
      return {
        activate: (next) => contextManager.with(context, next),
        end({ route, statusCode, error }) {
          span.updateName(`${method} ${route}`);
          span.setAttribute('http.route', route);
          span.setAttribute('http.response.status_code', statusCode);
          if (statusCode >= 500) failSpan(span, error ?? `HTTP ${statusCode}`);
          span.end();
        },
      };
    },
    tracedFetch(fetch: FetchFn): FetchFn {
      return async (input, init) => {
        const url = new URL(input);
        const method = (init.method ?? 'GET').toUpperCase();
        // Host and port only: a Slack or webhook URL's path can be its credential.
        const { span, context } = start(
          method,
          SpanKind.CLIENT,
          {
            'http.request.method': method,
            'server.address': url.hostname,
            'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
            'url.scheme': url.protocol.replace(/:$/, ''),
          },
          contextManager.active(),
        );
        const headers = new Headers(init.headers);
        propagator.inject(context, headers, { set: (h, key, value) => h.set(key, value) });
        try {
          const response = await fetch(input, { ...init, headers });
          span.setAttribute('http.response.status_code', response.status);
          if (response.status >= 400)
            span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.status}` });
          return response;
        } catch (error) {
          failSpan(span, error);
          throw error;
        } finally {
          span.end();
        }
      };
    },
    tracedProvider(target: PaymentProvider): PaymentProvider {
      return new Proxy(target, {
        get(object, property, receiver) {
          const value: unknown = Reflect.get(object, property, receiver);
          if (typeof value !== 'function' || typeof property !== 'string') return value;
          const method = value as (...args: unknown[]) => Promise<unknown>;
          return async (...args: unknown[]) => {
            const { span, context } = start(
              `${object.name} ${property}`,
              SpanKind.CLIENT,
              { 'billflow.provider': object.name, 'billflow.provider.operation': property },
              contextManager.active(),
            );
            try {
              return await contextManager.with(context, () => method.apply(object, args));
            } catch (error) {
              failSpan(span, error);
              throw error;
            } finally {
              span.end();
            }
          };
        },
      });
    },
    async flush() {
      await provider.forceFlush();
      await exporter.forceFlush?.();
    },
    async shutdown() {
      // The last spans go out if the collector answers; a service stops either way.
      await provider.shutdown().catch((error: unknown) => {
        deps.logger?.warn({ err: error, url: settings.tracesUrl }, 'the last spans could not be exported');
      });
      contextManager.disable();
    },
  };
}
