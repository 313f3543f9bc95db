// Loading data: one fetch per key, kept on screen while it refreshes (no flicker), with polling.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, client, ok } from './api.ts';
import type { WorkflowTypeInfo } from './types.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => Promise<void>;
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError
    ? error
    : new ApiError(0, { title: 'Error', detail: error instanceof Error ? error.message : String(error) });
}

/**
 * Runs `load` whenever `key` changes and every `pollMs` while the page is visible. A refresh
 * keeps the previous data until the new answer arrives; a stale answer (older key) is dropped.
 */
export function useApi<T>(key: string | null, load: () => Promise<T>, pollMs?: number): Loaded<T> {
  const [state, setState] = useState<{ key: string | null; data?: T; error?: ApiError; loading: boolean }>({
    key,
    loading: key !== null,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const keyRef = useRef(key);
  keyRef.current = key;

  const run = useCallback(async () => {
    const requested = keyRef.current;
    if (requested === null) return;
    try {
      const data = await loadRef.current();
      if (keyRef.current === requested) setState({ key: requested, data, loading: false });
    } catch (error) {
      if (keyRef.current === requested) {
        setState((prev) => ({
          key: requested,
          data: prev.key === requested ? prev.data : undefined,
          error: asApiError(error),
          loading: false,
        }));
      }
    }
  }, []);

  useEffect(() => {
    setState((prev) => (prev.key === key ? prev : { key, loading: key !== null }));
    void run();
    if (!pollMs || key === null) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void run();
    }, pollMs);
    return () => clearInterval(timer);
  }, [key, pollMs, run]);

  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: !current || state.loading,
    reload: run,
  };
}

/** A submit handler's busy flag and error, for forms and dialogs. */
export function useAction<A extends unknown[], R>(
  action: (...args: A) => Promise<R>,
): { run: (...args: A) => Promise<R | undefined>; busy: boolean; error: ApiError | undefined; reset: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const run = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      return await action(...args);
    } catch (e) {
      setError(asApiError(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, reset: () => setError(undefined) };
}

let workflowTypes: Promise<WorkflowTypeInfo[]> | undefined;

/**
 * The workflow types the server runs, with their labels and steps (GET /workflow-types): loaded
 * once per page load, since they change only with a new server version.
 */
export function useWorkflowTypes(): {
  types: WorkflowTypeInfo[] | undefined;
  error: ApiError | undefined;
  /** The type's label, or the type itself while loading or when the server does not know it. */
  label: (type: string) => string;
  find: (type: string) => WorkflowTypeInfo | undefined;
} {
  const loaded = useApi('workflow-types', () => {
    workflowTypes ??= ok(client.GET('/api/v1/workflow-types')).then(
      (answer) => answer.items,
      (error: unknown) => {
        workflowTypes = undefined; // try again next time
        throw error;
      },
    );
    return workflowTypes;
  });
  const find = (type: string) => loaded.data?.find((t) => t.type === type);
  return { types: loaded.data, error: loaded.error, label: (type) => find(type)?.label ?? type, find };
}
