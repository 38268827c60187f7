// Shapes shared by the corpus classes. The generator modules import nothing
// from lib/ (types aside): the soak child, which runs the compiled SDK from
// dist/, loads them too.

/** The SDK's exported error classes by name, and TypeError for documented programmer misuse. */
export type ErrorClassName =
  | 'NomyoError'
  | 'APIError'
  | 'InvalidRequestError'
  | 'AuthenticationError'
  | 'ForbiddenError'
  | 'RateLimitError'
  | 'ServerError'
  | 'ServiceUnavailableError'
  | 'APIConnectionError'
  | 'APIUserAbortError'
  | 'SecurityError'
  | 'AttestationError'
  | 'KeyError'
  | 'TypeError';

/** What a case must end in. */
export interface ExpectedError {
  /** The error must be an instance of this class (subclasses included unless `exact`). */
  class: ErrorClassName;
  /** The error's class must be exactly this one, not a subclass. */
  exact?: boolean;
  /** Subclasses it must not be (e.g. a SecurityError that is not an AttestationError). */
  not?: readonly ErrorClassName[];
  /** One of these codes. */
  codes?: readonly string[];
  /** APIError.status. */
  status?: number;
}

/** A stable, readable id: `<class>/<group>/<n>`. */
export function caseId(klass: string, group: string, n: number): string {
  return `${klass}/${group}/${String(n).padStart(3, '0')}`;
}

/** Numbers the cases of one class per group, in order. */
export class Numbering {
  readonly #next = new Map<string, number>();
  constructor(readonly klass: string) {}
  id(group: string): string {
    const n = this.#next.get(group) ?? 0;
    this.#next.set(group, n + 1);
    return caseId(this.klass, group, n);
  }
}

/** `text` with `insert` placed at `at` (clamped to the string). */
export function insertAt(text: string, at: number, insert: string): string {
  const i = Math.max(0, Math.min(text.length, at));
  return text.slice(0, i) + insert + text.slice(i);
}

/** Deep copy of JSON-shaped data. */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** `depth` nested arrays around `inner` ("[[...inner...]]"), built without recursion. */
export function nestedArrays(depth: number, inner = ''): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

/** `depth` nested objects `{"k":{"k":...inner...}}`, built without recursion. */
export function nestedObjects(depth: number, key: string, inner = '{}'): string {
  return `{"${key}":`.repeat(depth) + inner + '}'.repeat(depth);
}
