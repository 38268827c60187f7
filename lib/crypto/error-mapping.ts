// Native failures carry a code; the SDK raises them as its typed errors.
import { InvalidRequestError, KeyError, NomyoError, SecurityError } from '../errors';

const KEY_CODES = new Set([
  'NOMYO_KEY_INVALID',
  'NOMYO_KEY_TOO_SMALL',
  'NOMYO_KEY_UNSUPPORTED',
  'NOMYO_KEY_PASSWORD_REQUIRED',
  'NOMYO_KEY_BAD_PASSWORD',
  'NOMYO_KEYGEN_FAILED',
]);

/**
 * Errors made by the addon belong to Node's main realm, so inside a vm context
 * (a user's jest tests, say) `instanceof Error` is false for them: go by shape.
 */
function isErrorLike(error: unknown): error is { message: string; code?: unknown } {
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

export function toNomyoError(error: unknown): Error {
  if (error instanceof NomyoError) return error;
  if (!isErrorLike(error)) return new NomyoError('unknown failure');
  const { code, message } = error;
  if (typeof code !== 'string') return error instanceof Error ? error : new NomyoError(message);
  if (code === 'NOMYO_BAD_PACKAGE') return new SecurityError(message, code);
  if (code === 'NOMYO_DECRYPT_FAILED') return new SecurityError('the package could not be decrypted', code);
  if (code === 'NOMYO_ENCRYPT_FAILED') return new SecurityError('encryption failed', code);
  if (KEY_CODES.has(code)) return new KeyError(message, code);
  if (code === 'NOMYO_TOO_LARGE' || code === 'NOMYO_NOT_SERIALIZABLE') {
    return new InvalidRequestError(message, undefined, undefined, code);
  }
  return new NomyoError(message, code);
}

/** Runs `f`, re-raising any failure as a typed error. */
export function mapErrors<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    throw toNomyoError(error);
  }
}

export async function mapErrorsAsync<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (error) {
    throw toNomyoError(error);
  }
}
