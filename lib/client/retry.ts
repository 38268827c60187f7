// When to try again, and how long to wait first.
import { APIConnectionError, APIUserAbortError, RateLimitError, ServiceUnavailableError } from '../errors';

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;
const MAX_RETRY_AFTER_MS = 60_000;

/** Connection failures, 429 and 503 are worth another attempt; an abort never is. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  return (
    error instanceof APIConnectionError || error instanceof RateLimitError || error instanceof ServiceUnavailableError
  );
}

/** Exponential backoff with jitter, or the server's Retry-After where it gave one. */
export function retryDelayMs(attempt: number, error: unknown): number {
  const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs;
  if (retryAfter !== undefined) return Math.min(retryAfter, MAX_RETRY_AFTER_MS);
  const exponential = Math.min(BASE_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return exponential * (0.75 + Math.random() * 0.5);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new APIUserAbortError('the request was aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new APIUserAbortError('the request was aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
