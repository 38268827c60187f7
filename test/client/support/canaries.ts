// Secrets with recognisable values, and the errors the tests provoke with them.
// Every request the client tests send carries CANARY_PLAINTEXT, every client
// that may fail carries CANARY_API_KEY, and key passwords are CANARY_PASSWORD;
// none of them may ever show up in an error or a log line.
import { inspect, types } from 'node:util';

export const CANARY_PLAINTEXT = 'canary-plaintext-Q7x2Lm9Rv';
export const CANARY_API_KEY = 'sk-canary-apikey-Zr4Tn8WqP1';
export const CANARY_PASSWORD = 'canary-password-Hb5Vk3YsE6';
/** A second password, for "wrong password" cases: it must not leak either. */
export const CANARY_WRONG_PASSWORD = 'canary-wrong-password-Jd8Mc2Xa';

export const CANARIES: readonly string[] = [CANARY_PLAINTEXT, CANARY_API_KEY, CANARY_PASSWORD, CANARY_WRONG_PASSWORD];

/** The canary as it would appear raw, percent-encoded, JSON-escaped, base64 or hex. */
function forms(canary: string): string[] {
  const bytes = Buffer.from(canary, 'utf8');
  return [canary, encodeURIComponent(canary), bytes.toString('base64'), bytes.toString('hex')];
}

/** The canaries (in any of their encodings) that occur in `text`. */
export function canariesIn(text: string): string[] {
  return CANARIES.filter((canary) => forms(canary).some((form) => text.includes(form)));
}

/** Everything an error shows: name, code, message, stack, details and its cause chain. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (isError(current)) {
      parts.push(current.name, current.message, current.stack ?? '');
      const extra = current as Error & { code?: unknown; details?: unknown };
      if (extra.code !== undefined) parts.push(String(extra.code));
      if (extra.details !== undefined) parts.push(inspect(extra.details, { depth: 5 }));
      current = current.cause;
    } else {
      parts.push(inspect(current, { depth: 5 }));
      current = undefined;
    }
  }
  parts.push(inspect(error, { depth: 5 }));
  return parts.join('\n');
}

const collected: unknown[] = [];

/** An Error, also one made in another realm (node core errors are, under jest). */
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/** Errors raised so far in this test file (jest gives each file its own module registry). */
export function collectedErrors(): readonly unknown[] {
  return collected;
}

/** Awaits a promise that must reject; returns (and remembers) what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    collected.push(error);
    if (!isError(error)) throw new Error(`rejected with a non-Error: ${inspect(error)}`, { cause: error });
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Calls a function that must throw synchronously; returns (and remembers) what it threw. */
export function thrownBy(f: () => unknown): Error {
  try {
    f();
  } catch (error) {
    collected.push(error);
    if (!isError(error)) throw new Error(`threw a non-Error: ${inspect(error)}`, { cause: error });
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}

/**
 * Declares the last test of a file: every error the file's tests collected
 * names no secret. Tests run in declaration order, so this one sees them all.
 */
export function itLeaksNoSecretsInErrors(): void {
  describe("errors raised by this file's tests", () => {
    it('carry none of the canaries in message, stack, details or cause', () => {
      expect(collected.length).toBeGreaterThan(0);
      const leaks = collected
        .map((error) => ({ error: `${(error as Error).name}: ${(error as Error).message}`, found: canariesIn(errorText(error)) }))
        .filter((entry) => entry.found.length > 0);
      expect(leaks).toEqual([]);
    });
  });
}
