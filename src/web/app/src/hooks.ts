// Loading data: one fetch per key, kept on screen while it refreshes (no flicker), with polling.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api.ts';

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
