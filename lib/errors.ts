// Every failure the SDK raises is one of these. Messages never carry a key, a
// plaintext, a password or an API key.

/** Base of every error this SDK raises. */
export class NomyoError extends Error {
  override readonly name: string = 'NomyoError';
  /** A stable machine-readable code, e.g. 'NOMYO_DECRYPT_FAILED'. */
  readonly code: string;

  constructor(message: string, code = 'NOMYO_ERROR', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The server answered with an error, or the answer could not be had. */
export class APIError extends NomyoError {
  override readonly name: string = 'APIError';
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The server's `detail`, or other structured detail, when there is one. */
  readonly details: unknown;

  constructor(message: string, status?: number, details?: unknown, code = 'NOMYO_API_ERROR', options?: { cause?: unknown }) {
    super(message, code, options);
    this.status = status;
    this.details = details;
  }
}

/** 400: the server refused the request (or the SDK refused it before sending). */
export class InvalidRequestError extends APIError {
  override readonly name: string = 'InvalidRequestError';
}

/** 401: missing or wrong API key. */
export class AuthenticationError extends APIError {
  override readonly name: string = 'AuthenticationError';
}

/** 403: e.g. the model is not allowed for the requested tier. */
export class ForbiddenError extends APIError {
  override readonly name: string = 'ForbiddenError';
}

/** 429: rate limited; `retryAfterMs` when the server said how long to wait. */
export class RateLimitError extends APIError {
  override readonly name: string = 'RateLimitError';
  retryAfterMs: number | undefined;
}

/** 500. */
export class ServerError extends APIError {
  override readonly name: string = 'ServerError';
}

/** 503, including the `maximum` tier asked of a server without a TPM. */
export class ServiceUnavailableError extends APIError {
  override readonly name: string = 'ServiceUnavailableError';
  retryAfterMs: number | undefined;
}

/** The connection was refused or reset, or an attempt timed out. */
export class APIConnectionError extends APIError {
  override readonly name: string = 'APIConnectionError';

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, undefined, undefined, options?.code ?? 'NOMYO_CONNECTION');
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause });
  }
}

/** The request was aborted through its AbortSignal. */
export class APIUserAbortError extends APIConnectionError {
  override readonly name: string = 'APIUserAbortError';
}

/**
 * A security property did not hold: a package that does not decrypt, a server
 * key that does not match its pin, plain HTTP without `allowHttp`.
 */
export class SecurityError extends NomyoError {
  override readonly name: string = 'SecurityError';
}

/** An attestation was required and was absent or did not verify. */
export class AttestationError extends SecurityError {
  override readonly name: string = 'AttestationError';
}

/** A key could not be generated, loaded or saved (wrong password, loose file mode, ...). */
export class KeyError extends NomyoError {
  override readonly name: string = 'KeyError';
}
