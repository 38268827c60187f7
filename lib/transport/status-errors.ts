// Maps a non-200 answer to the typed error for its status. The body may be JSON
// {"detail": …} or anything else; the class depends on the status alone.
import type { IncomingHttpHeaders } from 'node:http';
import {
  APIError,
  AuthenticationError,
  ForbiddenError,
  InvalidRequestError,
  RateLimitError,
  ServerError,
  ServiceUnavailableError,
} from '../errors';

const MAX_DETAIL_CHARS = 1000;

/** The server's `detail`, or a short excerpt of a non-JSON body. */
export function errorDetail(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'detail' in parsed) {
      return (parsed as { detail: unknown }).detail;
    }
    return parsed;
  } catch {
    return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text;
  }
}

/** Retry-After in milliseconds (seconds or an HTTP date), when present and sane. */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const value = headers['retry-after'];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return undefined;
}

function describe(detail: unknown): string {
  if (typeof detail === 'string' && detail !== '') {
    return detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS)}…` : detail;
  }
  if (detail === undefined || detail === '') return '';
  try {
    return JSON.stringify(detail).slice(0, MAX_DETAIL_CHARS);
  } catch {
    return '';
  }
}

export function errorFromResponse(status: number, headers: IncomingHttpHeaders, body: Buffer): APIError {
  const detail = errorDetail(body);
  const text = describe(detail);
  const message = (fallback: string): string => (text ? `${fallback}: ${text}` : fallback);
  switch (status) {
    case 400:
      return new InvalidRequestError(message('invalid request (400)'), status, detail);
    case 401:
      return new AuthenticationError(message('authentication failed (401)'), status, detail);
    case 403:
      return new ForbiddenError(message('forbidden (403)'), status, detail);
    case 404:
      return new APIError(message('secure inference is not enabled on this endpoint (404)'), status, detail);
    case 429: {
      const error = new RateLimitError(message('rate limited (429)'), status, detail);
      error.retryAfterMs = retryAfterMs(headers);
      return error;
    }
    case 500:
      return new ServerError(message('server error (500)'), status, detail);
    case 503: {
      const error = new ServiceUnavailableError(message('service unavailable (503)'), status, detail);
      error.retryAfterMs = retryAfterMs(headers);
      return error;
    }
    default:
      return new APIError(message(`unexpected status ${status}`), status, detail);
  }
}
