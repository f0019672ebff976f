// Loading an API answer for a page: loading, the data, or the error to show; reload() fetches again.
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from './api';

export type Loaded<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; error: ApiError };

export function toApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(-1, 'Error', (e as Error).message ?? String(e));
}

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): [Loaded<T>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on
  useEffect(() => {
    let current = true;
    load().then(
      (data) => current && setLoaded({ state: 'ok', data }),
      (e) => current && setLoaded({ state: 'error', error: toApiError(e) }),
    );
    return () => {
      current = false;
    };
  }, [...deps, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return [loaded, reload];
}
