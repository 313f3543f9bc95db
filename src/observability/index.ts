// Metrics, traces and failure logs, attached to the engine, notify and HTTP through their hooks.
// This layer sits beside billing: it knows the engine's events, never the billing workflows.
import type { Db } from '../db/types.ts';
import type { EngineHooks, StartHooks } from '../engine/index.ts';
import type { AlertEvent, FetchFn, SendEvent } from '../notify/index.ts';
import type { PaymentProvider } from '../providers/index.ts';
import { failureLogHooks } from './logging.ts';
import { createMetrics } from './metrics.ts';
import type { Metrics } from './metrics.ts';
import { loadTracing } from './tracing.ts';
import type { Tracing, TracingSettings } from './tracing.ts';

export { createMetrics } from './metrics.ts';
export type { Metrics, MetricsOptions } from './metrics.ts';
export { createLogger, failureLogHooks, loggerOptions, scrubCredentials, REDACTED, REDACT_PATHS } from './logging.ts';
export type { LogFormat, LoggerSettings } from './logging.ts';
export { loadTracing } from './tracing.ts';
export type { RequestSpan, Tracing, TracingSettings } from './tracing.ts';

export interface ObservabilitySettings {
  /** Off without: no OpenTelemetry module is loaded. */
  tracing?: TracingSettings;
  /** The workflow types, so each has its series from the start. */
  types?: readonly string[];
  /** Process metrics (CPU, memory, event loop, GC). Default true. */
  processMetrics?: boolean;
}

/** What main.ts hands to the parts it wires. */
export interface Observability {
  metrics: Metrics;
  tracing?: Tracing;
  /** For the worker: failure log lines, metrics, and step spans when tracing. */
  engineHooks: EngineHooks;
  /** For the registry: runs started, and the trace context a run stores. */
  startHooks: StartHooks;
  onSend(event: SendEvent): void;
  onAlert(event: AlertEvent): void;
  fetch(fetch: FetchFn): FetchFn;
  provider(provider: PaymentProvider): PaymentProvider;
  shutdown(): Promise<void>;
}

type Hook<E> = ((event: E) => void | Promise<void>) | undefined;

function both<E>(a: Hook<E>, b: Hook<E>): Hook<E> {
  if (!a) return b;
  if (!b) return a;
  // Each runs whatever the other does: a throwing metrics hook must not cost the log line.
  return (event) => {
    const run = (hook: (event: E) => void | Promise<void>) => {
      try {
        return Promise.resolve(hook(event));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return Promise.all([run(a), run(b)]).then(() => undefined);
  };
}

function bothSync<E>(a: ((event: E) => void) | undefined, b: ((event: E) => void) | undefined) {
  if (!a) return b;
  if (!b) return a;
  return (event: E) => {
    try {
      a(event);
    } finally {
      b(event);
    }
  };
}

/** Several hook sets as one: each event goes to every hook; the first step scope wins. */
export function combineHooks(...sets: EngineHooks[]): EngineHooks {
  return sets.reduce<EngineHooks>(
    (all, set) => ({
      onStepFailed: both(all.onStepFailed, set.onStepFailed),
      onRunFailed: both(all.onRunFailed, set.onRunFailed),
      onRunCompleted: both(all.onRunCompleted, set.onRunCompleted),
      onLeaseTakeover: both(all.onLeaseTakeover, set.onLeaseTakeover),
      onStepAttempt: bothSync(all.onStepAttempt, set.onStepAttempt),
      stepScope: all.stepScope ?? set.stepScope,
    }),
    {},
  );
}

/**
 * Metrics (always: /metrics costs nothing until scraped), traces when configured, and the
 * failure log lines of `logger`.
 */
export async function startObservability(
  settings: ObservabilitySettings,
  deps: { db: Db; logger: Parameters<typeof failureLogHooks>[0] },
): Promise<Observability> {
  const metrics = createMetrics({ db: deps.db, types: settings.types, processMetrics: settings.processMetrics });
  const tracing = await loadTracing(settings.tracing, { db: deps.db, logger: deps.logger });
  return {
    metrics,
    tracing,
    engineHooks: combineHooks(failureLogHooks(deps.logger), metrics.engineHooks, tracing?.engineHooks ?? {}),
    startHooks: {
      onRunStarted: metrics.startHooks.onRunStarted,
      traceParent: tracing?.startHooks.traceParent,
    },
    onSend: metrics.onSend,
    onAlert: metrics.onAlert,
    fetch: (fetch) => (tracing ? tracing.tracedFetch(fetch) : fetch),
    provider: (provider) => (tracing ? tracing.tracedProvider(provider) : provider),
    shutdown: async () => {
      await tracing?.shutdown();
    },
  };
}
