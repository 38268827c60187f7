// Bad arguments to create(): the caller's side. Some are refused before
// anything is sent (tier, size, serializability, shape), some reach the
// reference server and are refused there (400), and some run the caller's own
// code (getters, toJSON, Proxy traps) that throws.
import { CANARY_API_KEY, CANARY_PLAINTEXT } from '../../../client/support/canaries';
import type { Rng } from '../prng';
import type { ExpectedError } from './common';
import { Numbering } from './common';

export interface ParamsBuild {
  params: unknown;
  /** The second argument of create(); absent: not passed. */
  options?: unknown;
  /** What the caller's own code throws, when the case makes it throw. */
  thrown?: unknown;
}

export type ParamsOutcome =
  /** A typed error; `beforeSending`: no POST reaches the server. */
  | { kind: 'typed'; expect: ExpectedError; beforeSending: boolean }
  /**
   * The caller's own code threw: create() may reject with exactly what it threw,
   * with an InvalidRequestError (NOMYO_NOT_SERIALIZABLE or NOMYO_BAD_PARAMS), or
   * with a plain NomyoError; never with another class (a SecurityError or a
   * KeyError would name a failure that did not happen), never after sending.
   */
  | {
      kind: 'own-or-typed';
      /**
       * Where the caller's code runs: while create() reads the parameters (the
       * client fields, the shallow copy), or while the request is serialized.
       */
      throwsWhile: 'reading' | 'serializing';
    };

export interface RequestParamCase {
  id: string;
  group: string;
  name: string;
  build(): ParamsBuild;
  outcome: ParamsOutcome;
  /** Builds or serializes megabytes: the soak uses it sparingly. */
  heavy: boolean;
}

/** A correct request; `text` goes after the canary in the user message. */
export function goodParams(text = 'hello'): Record<string, unknown> {
  return { model: 'corpus-model', messages: [{ role: 'user', content: `${CANARY_PLAINTEXT} ${text}` }] };
}

const BAD_TIER: ExpectedError = { class: 'InvalidRequestError', codes: ['NOMYO_BAD_TIER'] };
const NOT_SERIALIZABLE: ExpectedError = { class: 'InvalidRequestError', codes: ['NOMYO_NOT_SERIALIZABLE'] };
const TOO_LARGE: ExpectedError = { class: 'InvalidRequestError', codes: ['NOMYO_TOO_LARGE'] };
const NOT_AN_OBJECT: ExpectedError = { class: 'InvalidRequestError', exact: true };
const SERVER_400: ExpectedError = { class: 'InvalidRequestError', exact: true, status: 400 };
const BAD_API_KEY: ExpectedError = { class: 'InvalidRequestError', codes: ['NOMYO_BAD_API_KEY'] };
const BAD_URL: ExpectedError = { class: 'InvalidRequestError', codes: ['NOMYO_BAD_URL'] };
const BAD_SCHEME: ExpectedError = { class: 'SecurityError', exact: true, codes: ['NOMYO_BAD_URL'] };
const BAD_OPTION: ExpectedError = { class: 'InvalidRequestError', exact: true };

/** Big strings are made once per process and shared by every request that carries them. */
const bigStrings = new Map<string, string>();
function big(name: string, make: () => string): string {
  let value = bigStrings.get(name);
  if (value === undefined) {
    value = make();
    bigStrings.set(name, value);
  }
  return value;
}

const TEN_MIB = 10 * 1024 * 1024;

function throwing(message: string): Error {
  return new Error(`${message} (thrown by the caller's own code)`);
}

/** An Error that carries one of the SDK's own codes, as a caller's error might by accident. */
function throwingWithCode(code: string): Error {
  return Object.assign(new Error(`caller error carrying ${code}`), { code });
}

export function generateRequestParamCases(rng: Rng): RequestParamCase[] {
  const cases: RequestParamCase[] = [];
  const ids = new Numbering('params');
  const add = (group: string, name: string, build: () => ParamsBuild, outcome: ParamsOutcome, heavy = false): void => {
    cases.push({ id: ids.id(group), group, name, build, outcome, heavy });
  };
  const typed = (expect: ExpectedError, beforeSending = true): ParamsOutcome => ({ kind: 'typed', expect, beforeSending });
  const reading: ParamsOutcome = { kind: 'own-or-typed', throwsWhile: 'reading' };
  const serializing: ParamsOutcome = { kind: 'own-or-typed', throwsWhile: 'serializing' };

  // Tiers that are not tiers.
  for (const [label, tier] of [
    ['"MAXIMUM"', 'MAXIMUM'],
    ['"Standard"', 'Standard'],
    ['"low"', 'low'],
    ['""', ''],
    ['" standard"', ' standard'],
    ['"standard\\n"', 'standard\n'],
    ['"high\\u0000"', 'high\u0000'],
    ['null', null],
    ['0', 0],
    ['1', 1],
    ['true', true],
    ['[]', []],
    ['["high"]', ['high']],
    ['{}', {}],
    ['a String object "high"', Object('high') as unknown],
    ['a Symbol', Symbol('maximum')],
    ['a function', () => 'high'],
  ] as Array<[string, unknown]>) {
    add('tier', `security_tier ${label}`, () => ({ params: { ...goodParams(), security_tier: tier } }), typed(BAD_TIER));
  }

  // Values JSON cannot carry.
  const cycle = (): Record<string, unknown> => {
    const params = goodParams();
    params.self = params;
    return params;
  };
  for (const [name, make] of [
    ['a BigInt field', () => ({ ...goodParams(), temperature: 1n })],
    ['a BigInt inside a message', () => {
      const params = goodParams();
      (params.messages as Array<Record<string, unknown>>)[0]!.meta = { n: 2n };
      return params;
    }],
    ['a BigInt in an array', () => ({ ...goodParams(), stop: ['x', 3n] })],
    ['a boxed BigInt', () => ({ ...goodParams(), seed: Object(4n) as unknown })],
    ['the params referring to themselves', cycle],
    ['a message referring to itself', () => {
      const params = goodParams();
      const message = (params.messages as Array<Record<string, unknown>>)[0]!;
      message.self = message;
      return params;
    }],
    ['a cycle three objects long', () => {
      const a: Record<string, unknown> = {};
      const b: Record<string, unknown> = { a };
      a.c = { b };
      return { ...goodParams(), tools: [a] };
    }],
    ['an array containing itself', () => {
      const list: unknown[] = [];
      list.push(list);
      return { ...goodParams(), stop: list };
    }],
    ['a field nested 10,000 objects deep', () => {
      let value: Record<string, unknown> = {};
      for (let i = 0; i < 10_000; i++) value = { v: value };
      return { ...goodParams(), metadata: value };
    }],
    ['a field nested 10,000 arrays deep', () => {
      let value: unknown[] = [];
      for (let i = 0; i < 10_000; i++) value = [value];
      return { ...goodParams(), stop: value };
    }],
    ['a toJSON that returns a BigInt', () => ({ ...goodParams(), tools: { toJSON: () => 5n } })],
    ['a toJSON that returns a cycle', () => ({ ...goodParams(), tools: { toJSON: cycle } })],
    ['a toJSON on the params that returns undefined', () => ({ ...goodParams(), toJSON: () => undefined })],
  ] as Array<[string, () => Record<string, unknown>]>) {
    add('serialize', name, () => ({ params: make() }), typed(NOT_SERIALIZABLE));
  }

  // More than 10 MiB of plaintext.
  const size = rng.fork('params-size');
  const padding = size.between(1, 64);
  for (const [name, make] of [
    [`a message of 10 MiB + ${padding} ASCII characters`, () => {
      const params = goodParams();
      (params.messages as Array<Record<string, unknown>>)[0]!.content = big('ascii', () => 'a'.repeat(TEN_MIB + padding));
      return params;
    }],
    ['eleven messages of 1 MiB', () => ({
      ...goodParams(),
      messages: Array.from({ length: 11 }, () => ({ role: 'user', content: big('mib', () => 'm'.repeat(1024 * 1024)) })),
    })],
    ['5.3 million two-byte characters (10.6 MB of UTF-8)', () => ({ ...goodParams(), stop: [big('utf8', () => '\u00e9'.repeat(5_300_000))] })],
    ['1.8 million control characters (each escaped to six bytes)', () => ({ ...goodParams(), stop: [big('escapes', () => '\u0001'.repeat(1_800_000))] })],
    ['1.8 million lone surrogates (each escaped to six bytes)', () => ({ ...goodParams(), stop: [big('surrogates', () => '\ud800'.repeat(1_800_000))] })],
  ] as Array<[string, () => Record<string, unknown>]>) {
    add('size', name, () => ({ params: make() }), typed(TOO_LARGE), true);
  }

  // Params that are not an object.
  for (const [label, value] of [
    ['null', null],
    ['undefined', undefined],
    ['a string', `${CANARY_PLAINTEXT}`],
    ['a number', 42],
    ['true', true],
    ['a BigInt', 7n],
    ['a Symbol', Symbol('params')],
    ['a function', () => goodParams()],
    ['an empty array', []],
    ['an array holding good params', [goodParams()]],
  ] as Array<[string, unknown]>) {
    add('not-object', `params ${label}`, () => ({ params: value }), typed(NOT_AN_OBJECT));
  }
  // Objects the server refuses: what they serialize to lacks model or messages.
  for (const [label, make] of [
    ['a Date', () => new Date(0)],
    ['a Map of good params', () => new Map(Object.entries(goodParams()))],
    ['a String object', () => Object('hello') as unknown],
    ['a RegExp', () => /model/],
    ['an empty object', () => ({})],
    ['an object with only Symbol keys', () => ({ [Symbol('model')]: 'm', [Symbol('messages')]: [] })],
  ] as Array<[string, () => unknown]>) {
    add('not-object', `params ${label}`, () => ({ params: make() }), typed(SERVER_400, false));
  }

  // messages and model of the wrong shape: sent, refused by the server.
  for (const [label, change] of [
    ['messages a string', (p: Record<string, unknown>) => (p.messages = `${CANARY_PLAINTEXT}`)],
    ['messages null', (p: Record<string, unknown>) => (p.messages = null)],
    ['messages an object', (p: Record<string, unknown>) => (p.messages = { 0: { role: 'user', content: 'x' } })],
    ['messages a number', (p: Record<string, unknown>) => (p.messages = 1)],
    ['messages array-like', (p: Record<string, unknown>) => (p.messages = { 0: { role: 'user', content: 'x' }, length: 1 })],
    ['messages missing', (p: Record<string, unknown>) => delete p.messages],
    ['messages undefined', (p: Record<string, unknown>) => (p.messages = undefined)],
    ['messages a Symbol (dropped when serialized)', (p: Record<string, unknown>) => (p.messages = Symbol('messages'))],
    ['messages a function (dropped when serialized)', (p: Record<string, unknown>) => (p.messages = () => [])],
    ['messages a Set', (p: Record<string, unknown>) => (p.messages = new Set(p.messages as unknown[]))],
    ['model missing', (p: Record<string, unknown>) => delete p.model],
    ['model a number', (p: Record<string, unknown>) => (p.model = 42)],
    ['model null', (p: Record<string, unknown>) => (p.model = null)],
    ['model an array', (p: Record<string, unknown>) => (p.model = ['corpus-model'])],
    ['model a Symbol', (p: Record<string, unknown>) => (p.model = Symbol('model'))],
  ] as Array<[string, (p: Record<string, unknown>) => void]>) {
    add('shape', label, () => {
      const params = goodParams();
      change(params);
      return { params };
    }, typed(SERVER_400, false));
  }

  // Getters and toJSON that throw: the caller's own code fails.
  const getter = (name: string, outcome: ParamsOutcome, where: (params: Record<string, unknown>, get: () => never) => void): void => {
    add('getter', name, () => {
      const thrown = throwing(name);
      const params = goodParams();
      where(params, () => {
        throw thrown;
      });
      return { params, thrown };
    }, outcome);
  };
  for (const field of ['model', 'messages', 'security_tier', 'api_key', 'base_url', 'temperature']) {
    getter(`a getter on ${field} that throws`, reading, (params, get) => Object.defineProperty(params, field, { get, enumerable: true, configurable: true }));
  }
  getter('a getter on a message\'s content that throws', serializing, (params, get) =>
    Object.defineProperty((params.messages as object[])[0], 'content', { get, enumerable: true }),
  );
  getter('a getter on messages[0] that throws', serializing, (params, get) => Object.defineProperty(params.messages, 0, { get, enumerable: true }));
  getter('a getter deep in a tool definition that throws', serializing, (params, get) => {
    const parameters = {};
    Object.defineProperty(parameters, 'type', { get, enumerable: true });
    params.tools = [{ type: 'function', function: { name: 'f', parameters } }];
  });
  getter('a Symbol-keyed getter that throws', reading, (params, get) => Object.defineProperty(params, Symbol('s'), { get, enumerable: true }));
  add('getter', 'a getter that throws a string', () => {
    const params = goodParams();
    Object.defineProperty((params.messages as object[])[0], 'name', {
      get: () => {
        throw 'a string, not an Error';
      },
      enumerable: true,
    });
    return { params, thrown: 'a string, not an Error' };
  }, serializing);
  add('getter', 'a getter that throws undefined', () => {
    const params = goodParams();
    Object.defineProperty(params, 'n', {
      get: () => {
        throw undefined;
      },
      enumerable: true,
    });
    return { params, thrown: undefined };
  }, reading);
  for (const code of ['NOMYO_DECRYPT_FAILED', 'NOMYO_KEY_BAD_PASSWORD', 'NOMYO_TOO_LARGE', 'ERR_CALLER']) {
    add('getter', `a nested getter that throws an Error with code ${code}`, () => {
      const thrown = throwingWithCode(code);
      const params = goodParams();
      Object.defineProperty((params.messages as object[])[0], 'name', {
        get: () => {
          throw thrown;
        },
        enumerable: true,
      });
      return { params, thrown };
    }, serializing);
  }
  const toJson = (name: string, where: (params: Record<string, unknown>, toJSON: () => never) => void): void => {
    add('toJSON', name, () => {
      const thrown = throwing(name);
      const params = goodParams();
      where(params, () => {
        throw thrown;
      });
      return { params, thrown };
    }, serializing);
  };
  toJson('a toJSON on the params that throws', (params, toJSON) => (params.toJSON = toJSON));
  toJson('a toJSON on a message that throws', (params, toJSON) => ((params.messages as Array<Record<string, unknown>>)[0]!.toJSON = toJSON));
  toJson('a toJSON on messages that throws', (params, toJSON) => Object.assign(params.messages as object, { toJSON }));
  toJson('a toJSON on a Date subclass that throws', (params, toJSON) => {
    const date = new Date(0);
    Object.defineProperty(date, 'toJSON', { value: toJSON });
    params.metadata = { when: date };
  });

  // Proxies.
  add('proxy', 'a Proxy whose get trap throws', () => {
    const thrown = throwing('get trap');
    return { params: new Proxy(goodParams(), { get: () => {
      throw thrown;
    } }), thrown };
  }, reading);
  add('proxy', 'a Proxy whose ownKeys trap throws', () => {
    const thrown = throwing('ownKeys trap');
    return { params: new Proxy(goodParams(), { ownKeys: () => {
      throw thrown;
    } }), thrown };
  }, reading);
  add('proxy', 'a Proxy whose getOwnPropertyDescriptor trap throws', () => {
    const thrown = throwing('getOwnPropertyDescriptor trap');
    return { params: new Proxy(goodParams(), { getOwnPropertyDescriptor: () => {
      throw thrown;
    } }), thrown };
  }, reading);
  add('proxy', 'a nested Proxy (a message) whose get trap throws', () => {
    const thrown = throwing('nested get trap');
    const params = goodParams();
    params.messages = [new Proxy({ role: 'user', content: 'x' }, { get: () => {
      throw thrown;
    } })];
    return { params, thrown };
  }, serializing);
  add('proxy', 'a Proxy whose ownKeys trap lists a key twice', () => ({
    params: new Proxy(goodParams(), { ownKeys: () => ['model', 'model', 'messages'] }),
  }), typed({ class: 'InvalidRequestError' }));
  add('proxy', 'a revoked Proxy as the params', () => {
    const { proxy, revoke } = Proxy.revocable(goodParams(), {});
    revoke();
    return { params: proxy };
  }, typed({ class: 'InvalidRequestError' }));
  add('proxy', 'a revoked Proxy as a message', () => {
    const { proxy, revoke } = Proxy.revocable({ role: 'user', content: 'x' }, {});
    revoke();
    return { params: { ...goodParams(), messages: [proxy] } };
  }, typed({ class: 'InvalidRequestError' }));
  add('proxy', 'a revoked Proxy as messages', () => {
    const { proxy, revoke } = Proxy.revocable([], {});
    revoke();
    return { params: { ...goodParams(), messages: proxy } };
  }, typed({ class: 'InvalidRequestError' }));

  // The second argument.
  for (const [label, options, expect] of [
    ['timeout 0', { timeout: 0 }, BAD_OPTION],
    ['timeout -1', { timeout: -1 }, BAD_OPTION],
    ['timeout NaN', { timeout: Number.NaN }, BAD_OPTION],
    ['timeout Infinity', { timeout: Number.POSITIVE_INFINITY }, BAD_OPTION],
    ['timeout "300"', { timeout: '300' }, BAD_OPTION],
    ['timeout {}', { timeout: {} }, BAD_OPTION],
    ['an already aborted signal', { signal: AbortSignal.abort() }, { class: 'APIUserAbortError' }],
    ['options null', null, BAD_OPTION],
    ['signal {}', { signal: {} }, BAD_OPTION],
    ['signal "abort"', { signal: 'abort' }, BAD_OPTION],
    ['signal { aborted: false }', { signal: { aborted: false } }, BAD_OPTION],
  ] as Array<[string, unknown, ExpectedError]>) {
    add('options', `options: ${label}`, () => ({ params: goodParams(), options }), typed(expect));
  }

  // Client fields that cannot be used.
  for (const [label, apiKey] of [
    ['empty', ''],
    ['with a space', 'sk-with space'],
    ['the canary key and a line feed', `${CANARY_API_KEY}\n`],
    ['the canary key and a NUL', `${CANARY_API_KEY}\u0000`],
    ['non-ASCII', `${CANARY_API_KEY}\u00e9`],
    ['a number', 42],
    ['an object', { key: CANARY_API_KEY }],
  ] as Array<[string, unknown]>) {
    add('client-fields', `api_key ${label}`, () => ({ params: { ...goodParams(), api_key: apiKey } }), typed(BAD_API_KEY));
  }
  for (const [label, baseUrl, expect] of [
    ['not a URL', 'not a url', BAD_URL],
    ['empty', '', BAD_URL],
    ['a number', 42, BAD_URL],
    ['an object whose toString throws', { toString: () => { throw new Error('toString'); } }, BAD_URL],
    ['ftp:', 'ftp://127.0.0.1/', BAD_SCHEME],
    ['file:', 'file:///etc/passwd', BAD_SCHEME],
    ['javascript:', 'javascript:alert(1)', BAD_SCHEME],
    ['data:', 'data:text/plain,hello', BAD_SCHEME],
  ] as Array<[string, unknown, ExpectedError]>) {
    add('client-fields', `base_url ${label}`, () => ({ params: { ...goodParams(), base_url: baseUrl } }), typed(expect));
  }
  return cases;
}
