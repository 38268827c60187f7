// Capturing what a call threw, so tests can assert on class, code and message.
// Errors made by the native addon come from Node's main realm, not from jest's
// test context, so `instanceof Error`/`TypeError` is false for them here: these
// helpers go by shape and by name instead.

function isErrorLike(value: unknown): value is Error {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** A TypeError from either realm. */
export function isTypeError(error: unknown): boolean {
  return isErrorLike(error) && error.name === 'TypeError';
}

/** The error `f` throws or rejects with; fails the test when it succeeds. */
export async function caught(f: () => unknown): Promise<Error> {
  let result: unknown;
  try {
    result = await f();
  } catch (error) {
    if (!isErrorLike(error)) throw new Error(`threw a non-Error: ${String(error)}`, { cause: error });
    return error;
  }
  throw new Error(`expected a failure, got ${describe(result)}`);
}

/** Synchronous variant of caught(). */
export function caughtSync(f: () => unknown): Error {
  let result: unknown;
  try {
    result = f();
  } catch (error) {
    if (!isErrorLike(error)) throw new Error(`threw a non-Error: ${String(error)}`, { cause: error });
    return error;
  }
  throw new Error(`expected a failure, got ${describe(result)}`);
}

export function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' && value !== null) return `an object (${value.constructor?.name ?? 'null prototype'})`;
  return typeof value;
}
