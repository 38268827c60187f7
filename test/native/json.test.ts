// JSON in secret memory: serializeJson must produce JSON.stringify's bytes and
// parseJson must produce JSON.parse's values, on both backends, and neither may
// quote the document in an error.
import { backends } from '../helpers/backends';
import { caught, caughtSync, codeOf } from '../helpers/outcome';
import { secretBytes } from '../helpers/secrets';
import { InvalidRequestError, NomyoError } from '../../lib/errors';
import type { CryptoBackend } from '../../lib/crypto';

const LIMIT = 1 << 24;

/**
 * Where two parsed JSON values differ, or null: key order, own "__proto__" keys,
 * -0 and every string's code units included. Objects may come from another realm
 * (the addon's), so prototypes are not compared here.
 */
function jsonDifference(a: unknown, b: unknown, at = '$'): string | null {
  if (typeof a !== typeof b) return `${at}: ${typeof a} vs ${typeof b}`;
  if (a === null || b === null || typeof a !== 'object') return Object.is(a, b) ? null : `${at}: ${String(a)} vs ${String(b)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${at}: array vs object`;
  const keysA = Object.keys(a as object);
  const keysB = Object.keys(b as object);
  if (keysA.join('\u0000') !== keysB.join('\u0000')) return `${at}: keys ${JSON.stringify(keysA)} vs ${JSON.stringify(keysB)}`;
  for (const key of keysA) {
    const valueA: unknown = Object.getOwnPropertyDescriptor(a, key)?.value;
    const valueB: unknown = Object.getOwnPropertyDescriptor(b, key)?.value;
    const difference = jsonDifference(valueA, valueB, `${at}[${JSON.stringify(key)}]`);
    if (difference) return difference;
  }
  return null;
}

function sparse(): unknown[] {
  const array: unknown[] = ['first'];
  array[3] = 'fourth'; // indices 1 and 2 are holes
  return array;
}

const allControlChars = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f';

class Point {
  x = 1;
  y = 2;
  get sum(): number {
    return this.x + this.y; // on the prototype: not serialized
  }
}

const withToJson = {
  toJSON(key: string): unknown {
    return { calledWith: key, replaced: true };
  },
};

const manyKeys: Record<string, number> = {};
for (let i = 0; i < 1000; i++) manyKeys[`key_${(i * 7919) % 1000}`] = i;

// Values whose JSON.stringify output must be reproduced byte for byte.
const exactCorpus: Array<[string, unknown]> = [
  ['a chat request', { model: 'm', messages: [{ role: 'user', content: 'hello' }], temperature: 0.7, max_tokens: 100, stream: false }],
  ['BMP text', 'héllo wörld — ñ ü 中文 Ω ∑ ﬀ'],
  ['astral and emoji', '𝄞 😀 👩‍👩‍👧‍👦 🇩🇪 🏳️‍🌈 \u{10FFFF}'],
  ['every control character and DEL', allControlChars],
  ['quotes, backslashes, slashes', 'a"b\\c/d\'e\\"f\\\\'],
  ['U+2028, U+2029, NUL inside', 'line\u2028para\u2029nul\u0000end'],
  ['nested arrays and objects', { a: [1, [2, [3, [4, { b: { c: [{}, [], [[]], { d: null }] } }]]]], e: { f: { g: { h: 'deep' } } } }],
  ['integers', [0, 1, -1, 42, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), 1e15, 123456789]],
  ['-0 alone', -0],
  ['-0 in an array and an object', [-0, { z: -0 }]],
  ['1e21 and -1e21', [1e21, -1e21, 1.5e300, -2.5e-300]],
  ['Number.MAX_SAFE_INTEGER, MAX_VALUE, MIN_VALUE', [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE]],
  ['plain decimals', [0.1, 0.5, -2.5, 3.14159, 123.456, 0.1 + 0.2, 1 / 3, 2 / 3, 100.25, 0.001]],
  ['NaN and Infinities become null', [NaN, Infinity, -Infinity, { n: NaN, i: -Infinity }]],
  ['undefined, function and symbol members are dropped', { a: undefined, b: () => 1, c: Symbol('s'), d: 1, e: undefined }],
  ['only dropped members', { a: undefined, b: () => 1 }],
  ['undefined, function and symbol in arrays become null', [undefined, () => 1, Symbol('x'), 1]],
  ['holes in arrays become null', sparse()],
  ['a Date via toJSON', new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789))],
  ['Dates inside objects and arrays', { at: new Date(0), list: [new Date(Date.UTC(1999, 11, 31))] }],
  ['toJSON gets its key', { top: withToJson, list: [withToJson], nested: { deeper: withToJson } }],
  ['toJSON at the top level gets ""', withToJson],
  ['toJSON returning undefined drops the member', { gone: { toJSON: () => undefined }, kept: 1 }],
  ['empty object, array and string', [{}, [], '', [[]], { a: {} }]],
  ['booleans and null', [true, false, null, { t: true, f: false, n: null }]],
  ['top-level string', 'just a string'],
  ['top-level number', 42],
  ['top-level true', true],
  ['top-level null', null],
  ['symbol keys are skipped', { [Symbol('k')]: 1, a: 2 }],
  ['non-enumerable properties are skipped', Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false })],
  ['integer-like keys come first, ascending', { b: 1, 2: 'two', a: 2, 1: 'one', 10: 'ten' }],
  ['inherited properties are skipped', Object.assign(Object.create({ inherited: 1 }) as object, { own: 2 })],
  ['a class instance', new Point()],
  ['Map and Set serialize as {}', [new Map([[1, 2]]), new Set([1])]],
  ['a typed array', new Uint8Array([1, 2, 3])],
  ['a null-prototype object', Object.assign(Object.create(null) as object, { a: 1 })],
  ['unusual keys', { '': 0, ' ': 1, 'é': 2, '😀': 3, 'a"b': 4, 'line\nbreak': 5, '\u0000': 6, __proto__x: 7 }],
  ['the same object twice (not a cycle)', (() => { const shared = { s: 1 }; return { a: shared, b: [shared, shared] }; })()],
  ['a long string (the output grows)', 'x'.repeat(100_000) + 'é'.repeat(10_000)],
  ['a thousand keys', manyKeys],
];

// Numbers whose shortest round-trip digits are the same but whose notation C++
// std::to_chars and ECMAScript Number::toString format differently ("1.5e-07" vs
// "1.5e-7", "1e+20" vs "100000000000000000000"). The output is still JSON with
// the same values, so these are compared by JSON.parse, not byte for byte.
const notationCorpus: Array<[string, number]> = [
  ['1.5e-7', 1.5e-7],
  ['1e-7', 1e-7],
  ['0.000001', 0.000001],
  ['0.00001', 0.00001],
  ['1e20', 1e20],
  ['1e16', 1e16],
  ['2 ** 60', 2 ** 60],
  ['123456789012345680000', 123456789012345680000],
  ['-4.2e-10', -4.2e-10],
];

function cyclic(): unknown {
  const a: Record<string, unknown> = { name: 'a' };
  a.self = a;
  return a;
}

function indirectCycle(): unknown {
  const a: Record<string, unknown> = {};
  const b: Record<string, unknown> = { a };
  a.list = [1, { b }];
  return a;
}

function arrayCycle(): unknown {
  const list: unknown[] = [1];
  list.push([list]);
  return list;
}

describe.each(backends)('%s backend: serializeJson', (_name, make) => {
  const backend: CryptoBackend = make();

  function serialize(value: unknown, limit = LIMIT): Buffer {
    const secret = backend.serializeJson(value, limit);
    try {
      return secretBytes(backend, secret);
    } finally {
      secret.dispose();
    }
  }

  it.each(exactCorpus)('matches JSON.stringify byte for byte: %s', (_what, value) => {
    const expected = JSON.stringify(value);
    const bytes = serialize(value);
    expect(bytes.toString('utf8')).toBe(expected);
    expect(bytes.equals(Buffer.from(expected, 'utf8'))).toBe(true);
  });

  it.each(notationCorpus)('keeps the value of %s (JSON.parse of both agree; notation may differ)', (_what, value) => {
    for (const form of [value, [value], { v: value }]) {
      const ours = JSON.parse(serialize(form).toString('utf8')) as unknown;
      expect(ours).toStrictEqual(JSON.parse(JSON.stringify(form)));
    }
    expect(Object.is(JSON.parse(serialize(value).toString('utf8')), value)).toBe(true);
  });

  it('serializes every double it is given to JSON with the same value (sample of 2000)', () => {
    // Deterministic spread over the exponent range, both signs.
    const values: number[] = [];
    let seed = 0x2545f491;
    for (let i = 0; i < 2000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const mantissa = 1 + seed / 2 ** 32;
      const exponent = ((i * 37) % 600) - 300;
      values.push((i % 2 ? -1 : 1) * mantissa * 10 ** exponent);
    }
    const parsed = JSON.parse(serialize(values).toString('utf8')) as number[];
    const wrong = values.filter((v, i) => !Object.is(parsed[i], v));
    expect(wrong).toEqual([]);
  });

  it.each([
    ['a direct cycle', cyclic],
    ['an indirect cycle through an array', indirectCycle],
    ['an array that contains itself', arrayCycle],
    ['a BigInt', () => 10n],
    ['a BigInt member', () => ({ big: 1n })],
    ['a BigInt in an array', () => [1, 2n]],
    ['undefined at the top level', () => undefined],
    ['a function at the top level', () => () => 1],
  ])('refuses %s with InvalidRequestError NOMYO_NOT_SERIALIZABLE', (_what, makeValue) => {
    const error = caughtSync(() => backend.serializeJson(makeValue(), LIMIT));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(codeOf(error)).toBe('NOMYO_NOT_SERIALIZABLE');
  });

  it('refuses output over the limit with NOMYO_TOO_LARGE, and accepts output exactly at it', () => {
    for (const value of [{ content: 'héllo 😀' }, 'x'.repeat(70_000), Array.from({ length: 5000 }, (_, i) => i)]) {
      const size = Buffer.byteLength(JSON.stringify(value));
      expect(serialize(value, size).toString('utf8')).toBe(JSON.stringify(value));
      const error = caughtSync(() => backend.serializeJson(value, size - 1));
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(codeOf(error)).toBe('NOMYO_TOO_LARGE');
    }
    expect(codeOf(caughtSync(() => backend.serializeJson({ big: 'y'.repeat(1 << 20) }, 64 * 1024)))).toBe('NOMYO_TOO_LARGE');
  });

  it('passes through what a throwing toJSON or getter throws, without a result', () => {
    const boom = { toJSON(): never { throw new RangeError('toJSON exploded'); } };
    expect(caughtSync(() => backend.serializeJson({ a: boom }, LIMIT))).toBeTruthy();
    const getter = Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new Error('getter exploded'); } });
    expect(caughtSync(() => backend.serializeJson(getter, LIMIT))).toBeTruthy();
  });

  // JSON.stringify escapes lone surrogates ("\ud800", well-formed JSON.stringify, ES2019).
  // The native writer converts strings with napi_get_value_string_utf8, which turns a
  // lone surrogate into U+FFFD: the request's text is silently altered.
  it('escapes lone surrogates as JSON.stringify does', () => {
    for (const value of ['\ud800', 'a\udc00b', { k: 'x\ud83d' }, '\udfff\ud800']) {
      expect(serialize(value).toString('utf8')).toBe(JSON.stringify(value));
    }
  });

  // JSON.stringify unwraps Number, String and Boolean objects; the native writer treats
  // them as plain objects: new Number(3) -> {}, new String("xy") -> {"0":"x","1":"y"}.
  it('unwraps boxed primitives as JSON.stringify does', () => {
    const boxed = [new Number(3), new String('xy'), new Boolean(false)];
    expect(serialize(boxed).toString('utf8')).toBe(JSON.stringify(boxed));
  });

  // A limit of Infinity (no limit) works with JSON.stringify's fallback; the native binding
  // casts it to size_t (undefined behaviour; 0 on x86-64) and refuses every value.
  it('accepts Infinity as the limit', () => {
    expect(serialize({ a: 1 }, Infinity).toString('utf8')).toBe('{"a":1}');
  });
});

// Documents that JSON.parse accepts, with the values they must produce.
const parseCorpus: Array<[string, string]> = [
  ['an object', '{"a":1,"b":[true,false,null],"c":{"d":"e"}}'],
  ['all simple escapes', '"\\" \\\\ \\/ \\b \\f \\n \\r \\t"'],
  ['\\u escapes, BMP', '"\\u00e9\\u4E2D\\u0000\\u001f\\u2028\\uFFFF"'],
  ['\\u surrogate pairs', '"\\ud83d\\ude00 \\uD834\\uDD1E \\udbff\\udfff"'],
  ['raw UTF-8', '"héllo 中文 😀 👩‍👩‍👧‍👦"'],
  ['escapes mixed with raw text', '{"k\\u00e9y":"v\\talue 😀\\n"}'],
  ['whitespace everywhere', ' \t\n\r[ 1 ,\n2\t, { "a" : [ ] } ] \r\n'],
  ['integers', '[0,-0,1,-1,42,9007199254740991,9007199254740993,-9007199254740993]'],
  ['fractions and exponents', '[1.5,-1.5e3,1E2,1e+2,1e-2,2.5E-3,0.1,123.456e-7,1e308,-1e308,1e-320,5e-324,2.2250738585072014e-308]'],
  ['numbers out of double range', '[1e400,-1e400,1e-400,-1e-400,123456789012345678901234567890]'],
  ['long digit strings', '[0.30000000000000004441,12345678901234567890.12345678901234567890e-10]'],
  ['__proto__ and constructor keys', '{"__proto__":{"polluted":true},"constructor":{"prototype":1},"a":1}'],
  ['duplicate keys: the last wins, in the first position', '{"a":1,"b":2,"a":3}'],
  ['integer-like keys', '{"b":1,"2":2,"a":3,"1":4,"-1":5,"01":6}'],
  ['empty containers and strings', '[{},[],"",[[]],{"":""}]'],
  ['top-level scalars: string', '"x"'],
  ['top-level scalars: number', '-12.5e1'],
  ['top-level scalars: true', 'true'],
  ['top-level scalars: false', 'false'],
  ['top-level scalars: null', 'null'],
  ['arrays nested 400 deep', '['.repeat(400) + ']'.repeat(400)],
  ['objects nested 400 deep', '{"a":'.repeat(399) + '{}' + '}'.repeat(399)],
  ['10 000 elements', JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ i, s: `v${i}` })))],
  ['DEL and non-ASCII controls raw in strings', '"\u007f\u0080\u009f"'],
];

// Documents JSON.parse refuses; each carries a canary no error message may contain.
const invalidCorpus: Array<[string, string]> = [
  ['a trailing comma in an object', '{"CANARY_tc1": 1,}'],
  ['a trailing comma in an array', '["CANARY_tc2", 1,]'],
  ['single-quoted keys', "{'CANARY_sq1': 1}"],
  ['single-quoted strings', `{"k": 'CANARY_sq2'}`],
  ['a leading zero', '{"CANARY_lz1": 0123}'],
  ['a leading zero after minus', '{"CANARY_lz2": -01}'],
  ['a bare dot fraction', '{"CANARY_n1": .5}'],
  ['a trailing dot', '{"CANARY_n2": 1.}'],
  ['a plus sign', '{"CANARY_n3": +1}'],
  ['a hex number', '{"CANARY_n4": 0x10}'],
  ['an exponent without digits', '{"CANARY_n5": 1e}'],
  ['NaN', '{"CANARY_n6": NaN}'],
  ['Infinity', '{"CANARY_n7": Infinity}'],
  ['a raw control character in a string', '"CANARY_cc1\u0001"'],
  ['a raw newline in a string', '"CANARY_cc2\nsecond line"'],
  ['a raw tab in a string', '"CANARY_cc3\tx"'],
  ['trailing data', '{"a": "CANARY_td1"} trailing'],
  ['a second document', '{"a":"CANARY_td2"}{}'],
  ['two strings', '"CANARY_td3" "x"'],
  ['an unterminated string', '{"a": "CANARY_u1'],
  ['an unterminated array', '["CANARY_u2"'],
  ['an unterminated object', '{"CANARY_u3":'],
  ['an unterminated escape', '"CANARY_u4\\'],
  ['an unknown escape', '"CANARY_e1\\x41"'],
  ['a bad \\u escape', '"CANARY_e2\\u12G4"'],
  ['a short \\u escape', '"CANARY_e3\\u12"'],
  ['a comment', '{"a": 1 /* CANARY_c1 */}'],
  ['a line comment', '// CANARY_c2\n{}'],
  ['an unquoted key', '{CANARY_k1: 1}'],
  ['a bare word', 'CANARY_bare'],
  ['a misspelt literal', '["CANARY_l1", tru]'],
  ['a byte order mark', '\ufeff{"CANARY_bom":1}'],
  ['a missing colon', '{"CANARY_mc" 1}'],
  ['a missing comma', '["CANARY_mc2" 1]'],
  ['a missing value', '{"CANARY_mv":}'],
  ['a closing bracket mismatch', '["CANARY_mm"}'],
];

// consumeJson is parseJson for a secret read for the last time: natively it
// decodes escaped strings over the secret's own bytes, so it runs the same corpus.
const parseModes = backends.flatMap(([name, make]) =>
  (['parseJson', 'consumeJson'] as const).map((mode) => [name, make, mode] as const),
);

describe.each(parseModes)('%s backend: %s', (_name, make, mode) => {
  const backend: CryptoBackend = make();

  function parse(text: string): unknown {
    const secret = backend.secretFromString(text);
    try {
      return backend[mode](secret);
    } finally {
      secret.dispose();
    }
  }

  it(mode === 'consumeJson' ? 'disposes the secret, whether the JSON is valid or not' : 'leaves the secret alive', () => {
    for (const text of ['{"a":"b\\nc","d":["\\u00e9"]}', '{"a":"b\\nc"', '"\\x"']) {
      const secret = backend.secretFromString(text);
      try {
        backend[mode](secret);
      } catch {
        // the invalid ones: what matters here is the secret's state after
      }
      expect(secret.disposed).toBe(mode === 'consumeJson');
      secret.dispose();
    }
  });

  it.each(parseCorpus)('matches JSON.parse: %s', (_what, text) => {
    const ours = parse(text);
    // Same values, same key order, same -0s, same strings code unit for code unit.
    expect(jsonDifference(ours, JSON.parse(text))).toBeNull();
  });

  // The native reader hands pure-ASCII strings to V8 as Latin-1 and the rest as
  // UTF-8, scanning 16 bytes at a time: mix escapes, ASCII and non-ASCII at and
  // around those strides so that a wrong guess shows as changed text.
  it('keeps strings intact whatever mix of escapes, ASCII and non-ASCII they hold', () => {
    const pieces = ['a', '\n', 'é', '"', '\\', '😀', '\u00e9', 'x'.repeat(15), 'y'.repeat(16), 'z'.repeat(17), '\t', 'ü'];
    const strings: string[] = [];
    for (let i = 0; i < pieces.length; i++) {
      for (let j = 0; j < pieces.length; j++) strings.push(pieces[i]! + 'q'.repeat(i + j) + pieces[j]!);
    }
    const text = JSON.stringify(strings);
    expect(parse(text)).toEqual(JSON.parse(text));
  });

  it('keeps -0 as -0 and big integers rounded as JSON.parse rounds them', () => {
    const values = parse('[-0, 0, -0.0, 9007199254740993, 1e400, -1e-400]') as number[];
    const expected = JSON.parse('[-0, 0, -0.0, 9007199254740993, 1e400, -1e-400]') as number[];
    values.forEach((v, i) => expect(Object.is(v, expected[i])).toBe(true));
  });

  it('makes "__proto__" an own property and leaves every prototype alone', () => {
    // The addon makes objects in Node's main realm, not jest's: compare with its plain {}.
    const objectPrototype = Object.getPrototypeOf(parse('{}')) as object;
    expect(Object.getPrototypeOf(objectPrototype)).toBeNull();
    const parsed = parse('{"__proto__":{"polluted":true},"nested":{"__proto__":[1]}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(objectPrototype);
    expect(Object.prototype.hasOwnProperty.call(parsed, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ polluted: true });
    const nested = parsed.nested as Record<string, unknown>;
    expect(Object.getPrototypeOf(nested)).toBe(objectPrototype);
    expect(Object.getOwnPropertyDescriptor(nested, '__proto__')?.value).toEqual([1]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((objectPrototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(Array.isArray(parse('[]'))).toBe(true);
    expect(Object.keys(parsed)).toEqual(Object.keys(JSON.parse('{"__proto__":{"polluted":true},"nested":{"__proto__":[1]}}') as object));
  });

  it.each(invalidCorpus)('refuses %s with NOMYO_JSON_INVALID, quoting none of it', (_what, text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError); // the corpus is really invalid
    const canary = /CANARY_\w+/.exec(text)![0];
    const error = caughtSync(() => parse(text));
    expect(error).toBeInstanceOf(NomyoError);
    expect(codeOf(error)).toBe('NOMYO_JSON_INVALID');
    expect(error.message).not.toContain(canary);
    expect(error.message).not.toContain('CANARY');
    expect(String(error.stack)).not.toContain(canary);
  });

  it('refuses an empty or all-blank document', () => {
    for (const text of ['', ' ', '\n\t ']) expect(codeOf(caughtSync(() => parse(text)))).toBe('NOMYO_JSON_INVALID');
  });

  // Decoding in place must wait for no one: while an operation on the threadpool
  // still reads the bytes, consumeJson parses without writing over them.
  it('leaves the bytes an in-flight seal reads as they were', async () => {
    const value = { text: 'line "one"\nline two\t\u00e9\u20ac'.repeat(20_000) };
    const key = await backend.generateKeyPair(2048);
    const recipient = backend.importPublicKey(key.publicKeyPem());
    const secret = backend.serializeJson(value, 1 << 24);
    const sealing = backend.sealPackage(secret, recipient);
    expect(backend[mode](secret)).toEqual(value);
    const opened = await backend.openPackage(await sealing, key);
    expect(backend.consumeJson(opened.secret)).toEqual(value);
    secret.dispose();
    key.dispose();
  });

  // node-crypto-backend.ts parseJson reads the secret inside the try that turns every
  // failure into NOMYO_JSON_INVALID, so a disposed secret is reported as invalid JSON.
  it('refuses to parse a disposed secret with NOMYO_DISPOSED', async () => {
    const secret = backend.secretFromString('{"a":1}');
    secret.dispose();
    expect(codeOf(await caught(() => backend[mode](secret)))).toBe('NOMYO_DISPOSED');
  });

  // json_reader.cc ParseNumber: when std::from_chars reports result_out_of_range it guesses
  // underflow vs overflow from the sign of the explicit exponent only, so a long fraction
  // without an exponent that underflows becomes Infinity, and a long mantissa with a
  // negative exponent that overflows becomes 0. JSON.parse gives 0 and Infinity.
  it('rounds out-of-range numbers the way JSON.parse does, whatever their notation', () => {
    for (const text of [`0.${'0'.repeat(400)}1`, `-0.${'0'.repeat(400)}1`, `1${'0'.repeat(400)}e-10`, `[1${'0'.repeat(400)}e-10]`]) {
      expect(jsonDifference(parse(text), JSON.parse(text))).toBeNull();
    }
  });

  // JSON.parse keeps a lone surrogate escape as that UTF-16 code unit; the native reader
  // decodes escapes to UTF-8, which cannot hold one, and substitutes U+FFFD.
  it('keeps lone surrogate escapes as JSON.parse does', () => {
    for (const text of ['"\\ud800"', '"\\udc00"', '"\\ud800\\u0041"', '"a\\ud83d"', '{"\\udfff":1}']) {
      expect(jsonDifference(parse(text), JSON.parse(text))).toBeNull();
    }
  });
});
