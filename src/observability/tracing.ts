// Tracing seam: what the service asks of a tracer. The OpenTelemetry implementation is loaded only
// when an OTLP endpoint is configured, so a start without one loads none of it.
import type { IncomingHttpHeaders } from 'node:http';
import type { Db } from '../db/types.ts';
import type { EngineHooks, StartHooks } from '../engine/index.ts';
import type { FetchFn } from '../notify/index.ts';
import type { PaymentProvider } from '../providers/index.ts';

export interface TracingSettings {
  /** Where spans are sent: the OTLP/HTTP traces URL (…/v1/traces). */
  tracesUrl: string;
  serviceName: string;
  /** Extra export headers (OTEL_EXPORTER_OTLP_HEADERS is read by the exporter itself too). */
  headers?: Record<string, string>;
  /** How often queued spans are exported. Default 1 s. */
  exportDelayMs?: number;
}

/** The span of one HTTP request. */
export interface RequestSpan {
  /** Calls `next` inside the span's context: what the handler does (start runs, call out) is its child. */
  activate(next: () => void): void;
  end(result: { route: string; statusCode: number; error?: unknown }): void;
}

export interface Tracing {
  /** A span per step attempt, as a child of the trace context stored with the run. */
  readonly engineHooks: EngineHooks;
  /** The trace context a new run stores: a `start` span under the current request, or a new trace. */
  readonly startHooks: StartHooks;
  startRequest(request: { method: string; path: string; headers: IncomingHttpHeaders }): RequestSpan;
  /** A fetch whose calls are client spans that carry the trace context to the server. */
  tracedFetch(fetch: FetchFn): FetchFn;
  /** A provider whose calls are client spans. */
  tracedProvider(provider: PaymentProvider): PaymentProvider;
  /** Exports what is queued now (tests, shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The tracer when settings are given, loaded on first use; undefined (and nothing loaded) without. */
export async function loadTracing(
  settings: TracingSettings | undefined,
  deps: { db: Db; logger?: { warn(obj: object, msg?: string): void } },
): Promise<Tracing | undefined> {
  if (!settings) return undefined;
  const { createOtelTracing } = await import('./otel.ts');
  return createOtelTracing(settings, deps);
}
