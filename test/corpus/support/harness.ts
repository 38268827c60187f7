// What every corpus case is held to: a typed error of the expected class, no
// secret in it, no unhandled rejection anywhere in the process.
import * as vm from 'node:vm';
import * as sdk from '../../../lib';
import { getMemoryProtectionInfo } from '../../../lib';
import { canariesIn, errorText } from '../../client/support/canaries';
import type { ErrorClassName, ExpectedError } from './generator';
import type { KnownBug } from './known-bugs';
import { knownBugFor } from './known-bugs';

export type BackendKind = 'native' | 'node-crypto';

/** The backend the SDK runs on in this process (NOMYO_FORCE_FALLBACK=1 makes it node-crypto). */
export const BACKEND: BackendKind = getMemoryProtectionInfo().native_addon ? 'native' : 'node-crypto';

const CLASSES: Readonly<Record<Exclude<ErrorClassName, 'TypeError'>, abstract new (...args: never[]) => Error>> = {
  NomyoError: sdk.NomyoError,
  APIError: sdk.APIError,
  InvalidRequestError: sdk.InvalidRequestError,
  AuthenticationError: sdk.AuthenticationError,
  ForbiddenError: sdk.ForbiddenError,
  RateLimitError: sdk.RateLimitError,
  ServerError: sdk.ServerError,
  ServiceUnavailableError: sdk.ServiceUnavailableError,
  APIConnectionError: sdk.APIConnectionError,
  APIUserAbortError: sdk.APIUserAbortError,
  SecurityError: sdk.SecurityError,
  AttestationError: sdk.AttestationError,
  KeyError: sdk.KeyError,
};

function describe(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const e = error as { name?: unknown; code?: unknown; message?: unknown; status?: unknown };
    return `${String(e.name)}${e.code !== undefined ? ` ${String(e.code)}` : ''}${e.status !== undefined ? ` (status ${String(e.status)})` : ''}: ${String(e.message).slice(0, 200)}`;
  }
  return `a thrown ${typeof error}: ${String(error).slice(0, 200)}`;
}

/** Why `error` does not meet `expect` (one of them, when several are allowed); undefined when it does. */
export function mismatch(error: unknown, expect: ExpectedError | readonly ExpectedError[]): string | undefined {
  const options = Array.isArray(expect) ? (expect as readonly ExpectedError[]) : [expect as ExpectedError];
  const problems: string[] = [];
  for (const wanted of options) {
    const problem = mismatchOne(error, wanted);
    if (problem === undefined) return undefined;
    problems.push(problem);
  }
  return `${describe(error)} — ${problems.join('; or ')}`;
}

function mismatchOne(error: unknown, wanted: ExpectedError): string | undefined {
  if (wanted.class === 'TypeError') {
    // A TypeError from either realm (jest's context or Node's main one).
    const isTypeError = typeof error === 'object' && error !== null && (error as Error).name === 'TypeError' && !(error instanceof sdk.NomyoError);
    return isTypeError ? undefined : 'expected a TypeError';
  }
  const klass = CLASSES[wanted.class];
  if (!(error instanceof klass)) return `expected ${wanted.class}`;
  if (wanted.exact && (error as Error).constructor !== klass) return `expected exactly ${wanted.class}, not a subclass`;
  for (const excluded of wanted.not ?? []) {
    if (excluded !== 'TypeError' && error instanceof CLASSES[excluded]) return `expected ${wanted.class} but not ${excluded}`;
  }
  const code = (error as sdk.NomyoError).code;
  if (wanted.codes && !wanted.codes.includes(code)) return `expected code ${wanted.codes.join(' | ')}`;
  if (wanted.status !== undefined && (error as sdk.APIError).status !== wanted.status) return `expected status ${wanted.status}`;
  return undefined;
}

/** Fails the test with a readable reason when `error` does not meet `expect`. */
export function expectError(error: unknown, expect: ExpectedError | readonly ExpectedError[]): void {
  const problem = mismatch(error, expect);
  if (problem !== undefined) throw new Error(`wrong failure: ${problem}`);
}

/** The rejection of `promise`, or a thrown "it resolved" error. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    remember(error);
    return error;
  }
  throw new Error(`expected a failure, but it resolved${typeof value === 'object' && value !== null ? ` (an object)` : ''}`);
}

/** What `f` throws synchronously, or a thrown "it returned" error. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    remember(error);
    return error;
  }
  throw new Error('expected a throw, but it returned');
}

// ---------------------------------------------------------------------------
// Secrets

const seenErrors: unknown[] = [];

/** Keeps an error for the end-of-file secrets check. */
export function remember(error: unknown): void {
  seenErrors.push(error);
}

/** Errors (from this file) that show a canary in name, message, stack, code, details or cause. */
export function errorsWithSecrets(): Array<{ error: string; found: string[] }> {
  return seenErrors
    .map((error) => ({ error: describe(error), found: canariesIn(errorText(error)) }))
    .filter((entry) => entry.found.length > 0);
}

export function rememberedErrorCount(): number {
  return seenErrors.length;
}

/** "<name> <code>" of every remembered error, counted: what the corpus ended in. */
export function outcomeTally(): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const error of seenErrors) {
    const e = error as { name?: unknown; code?: unknown } | null | undefined;
    const key = typeof e === 'object' && e !== null ? `${String(e.name)} ${String(e.code ?? '')}`.trim() : `thrown ${typeof error}`;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(tally).sort(([a], [b]) => a.localeCompare(b)));
}

/** Prints the tally when CORPUS_SUMMARY=1 (for reports; quiet otherwise). */
export function printTally(title: string): void {
  if (process.env.CORPUS_SUMMARY !== '1') return;
  process.stdout.write(`${title} (${BACKEND}): ${JSON.stringify(outcomeTally(), null, 1)}\n`);
}

// ---------------------------------------------------------------------------
// Unhandled rejections

/**
 * Listens for unhandled rejections on the process jest runs in. Jest gives a
 * test file its own `process` object whose listeners the runtime never calls;
 * `vm.runInThisContext('process')` reaches the real one.
 */
export function watchUnhandledRejections(): { seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    seen.push(reason);
  };
  const real = vm.runInThisContext('process') as NodeJS.Process;
  real.on('unhandledRejection', onRejection);
  if (real !== process) process.on('unhandledRejection', onRejection);
  return {
    seen,
    stop: () => {
      real.off('unhandledRejection', onRejection);
      if (real !== process) process.off('unhandledRejection', onRejection);
    },
  };
}

/** Lets pending microtasks, timers and I/O callbacks run, so that late rejections show. */
export function settle(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------
// Known bugs

/**
 * `it`, or `it.failing` for a case with a known bug in lib/ or native/ on this
 * backend (see known-bugs.ts: the cause and the proposed fix are written there).
 */
export function itFor(klass: string, name: string): { test: jest.It; bug: KnownBug | undefined } {
  // CORPUS_SHOW_KNOWN_BUGS=1 runs them as ordinary tests, to see how each fails.
  const bug = process.env.CORPUS_SHOW_KNOWN_BUGS === '1' ? undefined : knownBugFor(klass, name, BACKEND);
  return { test: bug ? it.failing : it, bug };
}

/** Per-case timeout: generous, a hang guard, not a speed assertion. */
export const CASE_TIMEOUT_MS = 60_000;
