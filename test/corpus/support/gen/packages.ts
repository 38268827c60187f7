// Malformed packages: what a hostile or broken server could answer with a 200.
// Each case is a function of a correct package (sealed at run time to the
// client's key) that breaks it in one way; which way, and where, is fixed by
// the seed.
import { CANARY_PLAINTEXT } from '../../../client/support/canaries';
import type { Rng } from '../prng';
import { insertAt, jsonCopy, nestedArrays, nestedObjects, Numbering } from './common';

export type PackageObject = Record<string, unknown> & { encrypted_payload: Record<string, unknown> };

/** The four base64 fields, by where they sit in the package. */
export const BASE64_FIELDS = ['ciphertext', 'nonce', 'tag', 'encrypted_aes_key'] as const;
export type Base64Field = (typeof BASE64_FIELDS)[number];

/** The string fields a reader must find, with their paths. */
const REQUIRED_STRING_FIELDS = ['version', 'algorithm', 'ciphertext', 'nonce', 'tag', 'encrypted_aes_key'] as const;

/** How a served case must end. */
export type PackageOutcome =
  /** The envelope is refused (PackageError) or does not open (NOMYO_DECRYPT_FAILED): SecurityError, one POST. */
  | { kind: 'refused' }
  /** The envelope opens, the plaintext is not an acceptable answer: SecurityError with one of `codes`. */
  | { kind: 'bad-plaintext'; codes: readonly string[] }
  /** Opens and is fine, but the attestation it carries fails; a client with attestation 'require' refuses it. */
  | { kind: 'attestation-refused' }
  /** Larger than the client's 32 MiB response limit: APIConnectionError NOMYO_RESPONSE_TOO_LARGE. */
  | { kind: 'too-large' }
  /**
   * Valid by the protocol but hostile (e.g. an unknown field nested far past any
   * sane depth): a reader may refuse it (SecurityError) or accept it, never crash.
   */
  | { kind: 'refused-or-accepted' };

/** The completion every correct package of the corpus carries: the canary is in it. */
export function cannedCompletion(extraMetadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'chatcmpl-corpus',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'corpus-model',
    choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${CANARY_PLAINTEXT}` }, finish_reason: 'stop' }],
    _metadata: { tpm_attestation: { is_available: false }, ...extraMetadata },
  };
}

/** Plaintexts that the test seals correctly: the envelope opens, the content is wrong. */
export interface SealedPlaintext {
  name: string;
  outcome: PackageOutcome;
  bytes(): Buffer;
}

const BAD_RESPONSE = { kind: 'bad-plaintext', codes: ['NOMYO_BAD_RESPONSE'] } as const;
const ID_MISMATCH = { kind: 'bad-plaintext', codes: ['NOMYO_PAYLOAD_ID_MISMATCH'] } as const;
const ATTESTATION = { kind: 'attestation-refused' } as const;

function completionText(extraMetadata: Record<string, unknown> = {}): string {
  return JSON.stringify(cannedCompletion(extraMetadata));
}

export const SEALED_PLAINTEXTS: readonly SealedPlaintext[] = [
  { name: 'plaintext that is not JSON', outcome: BAD_RESPONSE, bytes: () => Buffer.from(`${CANARY_PLAINTEXT} is not JSON {`) },
  { name: 'plaintext JSON cut short', outcome: BAD_RESPONSE, bytes: () => Buffer.from(completionText().slice(0, -9)) },
  { name: 'plaintext a JSON array', outcome: BAD_RESPONSE, bytes: () => Buffer.from(`[${completionText()}]`) },
  { name: 'plaintext a JSON string', outcome: BAD_RESPONSE, bytes: () => Buffer.from(JSON.stringify(CANARY_PLAINTEXT)) },
  { name: 'plaintext a JSON number', outcome: BAD_RESPONSE, bytes: () => Buffer.from('42') },
  { name: 'plaintext JSON null', outcome: BAD_RESPONSE, bytes: () => Buffer.from('null') },
  { name: 'an empty plaintext', outcome: BAD_RESPONSE, bytes: () => Buffer.alloc(0) },
  {
    name: 'plaintext with invalid UTF-8 between tokens',
    outcome: BAD_RESPONSE,
    bytes: () => Buffer.concat([Buffer.from('{"choices":[],'), Buffer.from([0xff, 0xfe]), Buffer.from(`"x":"${CANARY_PLAINTEXT}"}`)]),
  },
  { name: 'plaintext of 10,000 nested arrays', outcome: BAD_RESPONSE, bytes: () => Buffer.from(nestedArrays(10_000)) },
  { name: 'plaintext with a byte order mark', outcome: BAD_RESPONSE, bytes: () => Buffer.from(`\ufeff${completionText()}`) },
  { name: 'plaintext with trailing garbage', outcome: BAD_RESPONSE, bytes: () => Buffer.from(`${completionText()} ${CANARY_PLAINTEXT}`) },
  { name: 'plaintext with a trailing NUL', outcome: BAD_RESPONSE, bytes: () => Buffer.from(`${completionText()}\u0000`) },
  { name: 'plaintext with an unterminated string', outcome: BAD_RESPONSE, bytes: () => Buffer.from(`{"choices":"${CANARY_PLAINTEXT}`) },
  {
    name: 'sealed _metadata.payload_id of another request',
    outcome: ID_MISMATCH,
    bytes: () => Buffer.from(completionText({ payload_id: '00000000-0000-4000-8000-000000000000' })),
  },
  { name: 'sealed _metadata.payload_id a number', outcome: ID_MISMATCH, bytes: () => Buffer.from(completionText({ payload_id: 12345 })) },
  { name: 'sealed _metadata.payload_id null', outcome: ID_MISMATCH, bytes: () => Buffer.from(completionText({ payload_id: null })) },
  {
    name: 'sealed _metadata.payload_id an object',
    outcome: ID_MISMATCH,
    bytes: () => Buffer.from(completionText({ payload_id: { id: CANARY_PLAINTEXT } })),
  },
  // The same answers are fine for a client whose attestation policy is 'verify';
  // one with 'require' must refuse them (AttestationError) and wipe the reply.
  { name: 'tpm_attestation {"is_available": false}', outcome: ATTESTATION, bytes: () => Buffer.from(completionText()) },
  {
    name: 'tpm_attestation absent',
    outcome: ATTESTATION,
    bytes: () => {
      const completion = cannedCompletion();
      delete (completion._metadata as Record<string, unknown>).tpm_attestation;
      return Buffer.from(JSON.stringify(completion));
    },
  },
  { name: 'tpm_attestation a string', outcome: ATTESTATION, bytes: () => Buffer.from(completionText({ tpm_attestation: 'yes' })) },
  { name: 'tpm_attestation is_available "true"', outcome: ATTESTATION, bytes: () => Buffer.from(completionText({ tpm_attestation: { is_available: 'true' } })) },
  {
    name: 'tpm_attestation claiming a quote made of garbage',
    outcome: ATTESTATION,
    bytes: () =>
      Buffer.from(
        completionText({
          tpm_attestation: {
            is_available: true,
            pcr_banks: 'sha256:0',
            pcr_values: { sha256: { '0': '00'.repeat(32) } },
            aik_pubkey_b64: 'AAAA',
            quote_b64: 'AAAA',
            signature_b64: 'AAAA',
          },
        }),
      ),
  },
  { name: '_metadata an array', outcome: ATTESTATION, bytes: () => Buffer.from(JSON.stringify({ ...cannedCompletion(), _metadata: [] })) },
];

/** What the test supplies: a correct package, and the correct packages of the sealed plaintexts above. */
export interface PackageBase {
  pkg: PackageObject;
  sealed: ReadonlyMap<string, PackageObject>;
}

export interface PackageCase {
  id: string;
  group: string;
  name: string;
  outcome: PackageOutcome;
  /** Megabytes of body: left out of the soak. */
  heavy: boolean;
  /** The body to serve (a Buffer where it must not be valid UTF-8). */
  build(base: PackageBase): string | Buffer;
}

/** A package that must be accepted: the corpus' failures are due to their mutations only. */
export interface PackageControl {
  name: string;
  build(base: PackageBase): string | Buffer;
}

// ---------------------------------------------------------------------------

type Mutator = (pkg: PackageObject) => void;

function mutate(base: PackageBase, change: Mutator): string {
  const pkg = jsonCopy(base.pkg);
  change(pkg);
  return JSON.stringify(pkg);
}

function getField(pkg: PackageObject, field: string): unknown {
  return field === 'ciphertext' || field === 'nonce' || field === 'tag' ? pkg.encrypted_payload[field] : pkg[field];
}

function setField(pkg: PackageObject, field: string, value: unknown): void {
  if (field === 'ciphertext' || field === 'nonce' || field === 'tag') pkg.encrypted_payload[field] = value;
  else pkg[field] = value;
}

function deleteField(pkg: PackageObject, field: string): void {
  if (field === 'ciphertext' || field === 'nonce' || field === 'tag') delete pkg.encrypted_payload[field];
  else delete pkg[field];
}

function bytesOf(pkg: PackageObject, field: Base64Field): Buffer {
  return Buffer.from(String(getField(pkg, field)), 'base64');
}

/** Replaces the key `from` with `to` (same value), keeping the key order. */
function renameKey(record: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) out[key === from ? to : key] = value;
  return out;
}

/** The JSON text of `pkg` with `"name":` replaced by a raw piece of JSON (e.g. duplicate keys). */
function rawReplace(pkg: PackageObject, needle: string, replacement: string): string {
  const text = JSON.stringify(pkg);
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`corpus generator: ${needle} not in the package`);
  return text.slice(0, at) + replacement + text.slice(at + needle.length);
}

const STANDARD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A base64 string whose unused tail bits are not zero, or a '.' where there is no tail. */
function nonCanonicalTail(value: string): string {
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  if (padding === 0) return insertAt(value.slice(0, -1), value.length - 1, '.');
  const at = value.length - padding - 1;
  const index = STANDARD_ALPHABET.indexOf(value[at]!);
  const mask = padding === 2 ? 0x0f : 0x03; // bits of the last character that carry no data
  const changed = (index & ~mask) | ((index & mask) ^ 1);
  return value.slice(0, at) + STANDARD_ALPHABET[changed]! + value.slice(at + 1);
}

/** The URL-safe alphabet; where the value has neither '+' nor '/', a '-' replaces one character. */
function urlAlphabet(value: string, rng: Rng): string {
  const converted = value.replace(/\+/g, '-').replace(/\//g, '_');
  if (converted !== value) return converted;
  const at = rng.below(Math.max(1, value.replace(/=+$/, '').length));
  return value.slice(0, at) + '-' + value.slice(at + 1);
}

/** A valid base64 character other than the one at `at`. */
function otherBase64Char(value: string, at: number, rng: Rng): string {
  const current = value[at]!;
  let next = current;
  while (next === current) next = STANDARD_ALPHABET[rng.below(64)]!;
  return next;
}

type Base64Variant = [string, (value: string, rng: Rng) => string];

const BASE64_VARIANTS: readonly Base64Variant[] = [
  ['a space inside', (v, rng) => insertAt(v, 1 + rng.below(Math.max(1, v.length - 2)), ' ')],
  ['a line feed inside', (v, rng) => insertAt(v, 1 + rng.below(Math.max(1, v.length - 2)), '\n')],
  ['CRLF every 8 characters', (v) => v.replace(/(.{8})/g, '$1\r\n')],
  ['a leading space', (v) => ` ${v}`],
  ['a trailing line feed', (v) => `${v}\n`],
  ['a tab inside', (v, rng) => insertAt(v, rng.below(v.length + 1), '\t')],
  ['the URL-safe alphabet', (v, rng) => urlAlphabet(v, rng)],
  ['its padding removed (or its last character)', (v) => (v.endsWith('=') ? v.replace(/=+$/, '') : v.slice(0, -1))],
  ['one "=" too many', (v) => `${v}=`],
  ['four "=" too many', (v) => `${v}====`],
  ['"=" in the middle', (v, rng) => insertAt(v, 4 * rng.between(1, Math.max(1, Math.floor(v.length / 4) - 1)), '=')],
  ['more data after the padding', (v) => `${v}QUJD`],
  ['a non-ASCII letter', (v, rng) => insertAt(v, rng.below(v.length + 1), '\u00e9')],
  ['a fullwidth letter in place of one', (v, rng) => {
    const at = rng.below(Math.max(1, v.replace(/=+$/, '').length));
    return v.slice(0, at) + '\uff21' + v.slice(at + 1);
  }],
  ['an emoji', (v, rng) => insertAt(v, rng.below(v.length + 1), '\u{1f600}')],
  ['a NUL inside', (v, rng) => insertAt(v, rng.below(v.length + 1), '\u0000')],
  ['a trailing NUL', (v) => `${v}\u0000`],
  ['non-zero bits in the padding tail', (v) => nonCanonicalTail(v)],
  ['a "!" inside', (v, rng) => insertAt(v, rng.below(v.length + 1), '!')],
  ['percent-encoded', (v) => (encodeURIComponent(v) !== v ? encodeURIComponent(v) : insertAt(v, 0, '%2B'))],
  ['hex instead of base64', (v) => Buffer.from(v, 'base64').toString('hex')],
  ['one character dropped from the middle', (v) => v.slice(0, v.length >> 1) + v.slice((v.length >> 1) + 1)],
];

const BAD_CHARACTERS = [' ', '\n', '\r', '\t', '-', '_', '.', '!', '*', '%', '=', '\u00e9', '\u0000', '~', '"', '\\'];

/** Values of the wrong JSON type for a string field (the same string wrapped counts as wrong). */
function wrongTypes(original: unknown): Array<[string, unknown]> {
  return [
    ['0', 0],
    ['-1', -1],
    ['3.5', 3.5],
    ['1e308', 1e308],
    ['true', true],
    ['false', false],
    ['null', null],
    ['[]', []],
    ['[the value]', [original]],
    ['{}', {}],
    ['{"value": the value}', { value: original }],
  ];
}

// ---------------------------------------------------------------------------

export function generatePackageCases(rng: Rng): PackageCase[] {
  const cases: PackageCase[] = [];
  const ids = new Numbering('package');
  // A case that draws random bytes when built gets a generator of its own,
  // re-seeded on every build: the same case builds the same body every time.
  const add = (
    group: string,
    name: string,
    make: (base: PackageBase, r: Rng) => string | Buffer,
    outcome: PackageOutcome = { kind: 'refused' },
    heavy = false,
  ): void => {
    const id = ids.id(group);
    cases.push({ id, group, name, outcome, heavy, build: (base) => make(base, rng.fork(`build:${id}`)) });
  };

  // Missing and renamed fields.
  for (const field of ['version', 'algorithm', 'encrypted_payload', ...REQUIRED_STRING_FIELDS.slice(2)]) {
    add('missing', `no ${field}`, (base) => mutate(base, (pkg) => deleteField(pkg, field)));
  }
  add('missing', 'an empty object', () => '{}');
  add('missing', 'only encrypted_payload', (base) => JSON.stringify({ encrypted_payload: base.pkg.encrypted_payload }));
  add('missing', 'an empty encrypted_payload', (base) => mutate(base, (pkg) => (pkg.encrypted_payload = {})));
  for (const [from, to] of [
    ['version', 'Version'],
    ['encrypted_payload', 'encrypted-payload'],
    ['encrypted_aes_key', 'encryptedAesKey'],
    ['algorithm', ' algorithm'],
    ['version', 'version\u0000'],
  ] as const) {
    add('missing', `${from} spelled ${JSON.stringify(to)}`, (base) => JSON.stringify(renameKey(jsonCopy(base.pkg), from, to)));
  }
  for (const [from, to] of [
    ['ciphertext', 'Ciphertext'],
    ['tag', 'auth_tag'],
    ['nonce', 'iv'],
  ] as const) {
    add('missing', `encrypted_payload.${from} spelled ${JSON.stringify(to)}`, (base) =>
      mutate(base, (pkg) => (pkg.encrypted_payload = renameKey(pkg.encrypted_payload, from, to))),
    );
  }

  // Extra fields the reader does check.
  for (const [label, value] of [
    ['a number', 7],
    ['null', null],
    ['true', true],
    ['an array', []],
    ['an object', {}],
    ['an array of the right shape', ['00000000-0000-4000-8000-000000000000']],
    ['another request\'s id', '00000000-0000-4000-8000-000000000000'],
    ['the empty string', ''],
    ['a canary', CANARY_PLAINTEXT],
  ] as const) {
    add('extra', `payload_id ${label}`, (base) => mutate(base, (pkg) => (pkg.payload_id = value)));
  }
  for (const field of ['key_algorithm', 'payload_algorithm']) {
    for (const [label, value] of [
      ['another algorithm', field === 'key_algorithm' ? 'RSA-OAEP-SHA1' : 'AES-256-CBC'],
      ['lower case', field === 'key_algorithm' ? 'rsa-oaep-sha256' : 'aes-256-gcm'],
      ['null', null],
      ['a number', 256],
      ['the empty string', ''],
    ] as const) {
      add('extra', `${field} ${label}`, (base) => mutate(base, (pkg) => (pkg[field] = value)));
    }
  }

  // Wrong types where strings go.
  const typeLabels = wrongTypes(undefined).map(([label]) => label);
  for (const field of REQUIRED_STRING_FIELDS) {
    typeLabels.forEach((label, index) => {
      add('wrong-type', `${field} is ${label}`, (base) =>
        mutate(base, (pkg) => setField(pkg, field, wrongTypes(getField(pkg, field))[index]![1])),
      );
    });
  }
  for (const [label, make] of [
    ['a string', (p: Record<string, unknown>) => JSON.stringify(p)],
    ['0', () => 0],
    ['true', () => true],
    ['null', () => null],
    ['[]', () => []],
    ['[the payload]', (p: Record<string, unknown>) => [p]],
  ] as const) {
    add('wrong-type', `encrypted_payload is ${label}`, (base) => mutate(base, (pkg) => (pkg.encrypted_payload = make(pkg.encrypted_payload) as never)));
  }

  // Wrong lengths (valid base64 of the wrong number of bytes).
  for (const n of [0, 1, 11, 13, 16, 32]) {
    add('length', `a ${n}-byte nonce`, (base, r) => mutate(base, (pkg) => setField(pkg, 'nonce', r.bytes(n).toString('base64'))));
  }
  for (const n of [0, 1, 12, 15, 17, 32]) {
    add('length', `a ${n}-byte tag`, (base, r) => mutate(base, (pkg) => setField(pkg, 'tag', r.bytes(n).toString('base64'))));
  }
  add('length', 'an empty ciphertext', (base) => mutate(base, (pkg) => setField(pkg, 'ciphertext', '')));
  add('length', 'a 1-byte ciphertext', (base, r) => mutate(base, (pkg) => setField(pkg, 'ciphertext', r.bytes(1).toString('base64'))));
  add('length', 'the ciphertext one byte short', (base) =>
    mutate(base, (pkg) => setField(pkg, 'ciphertext', bytesOf(pkg, 'ciphertext').subarray(0, -1).toString('base64'))),
  );
  add('length', 'the ciphertext one byte long', (base) =>
    mutate(base, (pkg) => setField(pkg, 'ciphertext', Buffer.concat([bytesOf(pkg, 'ciphertext'), Buffer.from([0])]).toString('base64'))),
  );
  const keyCuts: Array<[string, (key: Buffer, r: Rng) => Buffer]> = [
    ['empty', () => Buffer.alloc(0)],
    ['1 byte', (key) => key.subarray(0, 1)],
    ['cut by one byte', (key) => key.subarray(0, -1)],
    ['cut by 16 bytes', (key) => key.subarray(0, -16)],
    ['cut in half', (key) => key.subarray(0, key.length >> 1)],
    ['one byte too long', (key) => Buffer.concat([key, Buffer.from([0x5a])])],
    ['with a zero byte in front', (key) => Buffer.concat([Buffer.from([0]), key])],
    ['512 random bytes (an RSA-4096 size)', (_key, r) => r.bytes(512)],
    ['its first byte dropped', (key) => key.subarray(1)],
  ];
  for (const [label, cut] of keyCuts) {
    add('length', `encrypted_aes_key ${label}`, (base, r) =>
      mutate(base, (pkg) => setField(pkg, 'encrypted_aes_key', cut(bytesOf(pkg, 'encrypted_aes_key'), r).toString('base64'))),
    );
  }

  // Base64 that is not the standard alphabet with padding.
  for (const field of BASE64_FIELDS) {
    for (const [label, variant] of BASE64_VARIANTS) {
      add('base64', `${field} with ${label}`, (base, r) => mutate(base, (pkg) => setField(pkg, field, variant(String(getField(pkg, field)), r))));
    }
  }

  // Huge values.
  add('huge', 'a 20 MB ciphertext of "A"s', (base) => mutate(base, (pkg) => setField(pkg, 'ciphertext', 'A'.repeat(20 * 1024 * 1024))), { kind: 'refused' }, true);
  add('huge', 'a 40 MB ciphertext (past the 32 MiB response limit)', (base) =>
    mutate(base, (pkg) => setField(pkg, 'ciphertext', 'A'.repeat(40 * 1024 * 1024))),
  { kind: 'too-large' }, true);
  const megaName = (c: string): string => c.repeat(1024 * 1024);
  add('huge', 'a 1 MB field name in place of version', (base) => JSON.stringify(renameKey(jsonCopy(base.pkg), 'version', megaName('v'))));
  add('huge', 'a 1 MB field name in place of encrypted_aes_key', (base) => JSON.stringify(renameKey(jsonCopy(base.pkg), 'encrypted_aes_key', megaName('k'))));
  add('huge', 'a 1 MB field name in place of encrypted_payload.tag', (base) =>
    mutate(base, (pkg) => (pkg.encrypted_payload = renameKey(pkg.encrypted_payload, 'tag', megaName('t')))),
  );
  add('huge', 'a 1 MB version', (base) => mutate(base, (pkg) => (pkg.version = `1.0${' '.repeat(1024 * 1024)}`)));
  add('huge', 'a 1 MB algorithm', (base) => mutate(base, (pkg) => (pkg.algorithm = megaName('a'))));
  add('huge', 'a 1 MB nonce (valid base64)', (base) => mutate(base, (pkg) => setField(pkg, 'nonce', 'QUFB'.repeat(256 * 1024))));
  add('huge', 'a 1 MB tag (valid base64)', (base) => mutate(base, (pkg) => setField(pkg, 'tag', 'QUFB'.repeat(256 * 1024))));
  add('huge', 'a 1 MB encrypted_aes_key (valid base64)', (base) => mutate(base, (pkg) => setField(pkg, 'encrypted_aes_key', 'QUFB'.repeat(256 * 1024))));
  add('huge', 'a 1 MB payload_id', (base) => mutate(base, (pkg) => (pkg.payload_id = megaName('p'))));
  add('huge', 'a 100,000-element array as the tag', (base) => mutate(base, (pkg) => setField(pkg, 'tag', new Array(100_000).fill('AAAA'))));
  add('huge', '100,000 unknown fields and version "2.0"', (base) =>
    mutate(base, (pkg) => {
      for (let i = 0; i < 100_000; i++) pkg[`x${i}`] = i;
      pkg.version = '2.0';
    }),
  );

  // Wrong version or algorithm.
  for (const version of ['1.1', '2.0', '', '1', '1.0.0', ' 1.0', '1.0\n', '\uff11.\uff10', '1.0\u0000', 'v1.0', '1,0']) {
    add('version', `version ${JSON.stringify(version)}`, (base) => mutate(base, (pkg) => (pkg.version = version)));
  }
  for (const algorithm of [
    'hybrid-aes256-rsa2048',
    'HYBRID-AES256-RSA4096',
    '',
    'none',
    'hybrid-aes128-rsa4096',
    'hybrid-aes256-rsa4096 ',
    'hybrid-chacha20-rsa4096',
    'hybrid-aes256-rsa4096\u0000',
  ]) {
    add('version', `algorithm ${JSON.stringify(algorithm)}`, (base) => mutate(base, (pkg) => (pkg.algorithm = algorithm)));
  }

  // JSON that is not an object, or not JSON.
  const text = (base: PackageBase): string => JSON.stringify(base.pkg);
  for (const [label, build] of [
    ['null', () => 'null'],
    ['true', () => 'true'],
    ['0', () => '0'],
    ['-1e999', () => '-1e999'],
    ['a string', () => '"hybrid-aes256-rsa4096"'],
    ['the package as a JSON string', (base: PackageBase) => JSON.stringify(text(base))],
    ['[]', () => '[]'],
    ['[the package]', (base: PackageBase) => `[${text(base)}]`],
    ['an empty body', () => ''],
    ['whitespace only', () => ' \r\n\t '],
    ['a byte order mark and the package', (base: PackageBase) => `\ufeff${text(base)}`],
    ['the package and trailing garbage', (base: PackageBase) => `${text(base)} garbage`],
    ['the package twice', (base: PackageBase) => text(base) + text(base)],
    ['the package twice, one per line', (base: PackageBase) => `${text(base)}\n${text(base)}\n`],
    ['the package with single quotes', (base: PackageBase) => text(base).replace(/"/g, "'")],
    ['the package with unquoted keys', (base: PackageBase) => text(base).replace(/"([a-z_]+)":/g, '$1:')],
    ['the package with a trailing comma', (base: PackageBase) => `${text(base).slice(0, -1)},}`],
    ['the package with a comment', (base: PackageBase) => `/* nomyo */${text(base)}`],
    ['form-encoded fields', (base: PackageBase) => new URLSearchParams(base.pkg as unknown as Record<string, string>).toString()],
    ['an HTML page', () => '<!doctype html><html><body>200 OK</body></html>'],
    ['NaN', () => 'NaN'],
  ] as const) {
    add('not-object', label, build);
  }

  // Bodies that are not valid UTF-8.
  const splice = (body: string, needle: string, bytes: number[], after = true): Buffer => {
    const at = body.indexOf(needle);
    if (at < 0) throw new Error(`corpus generator: ${needle} not in the package`);
    const cut = Buffer.byteLength(body.slice(0, at + (after ? needle.length : 0)));
    const raw = Buffer.from(body);
    return Buffer.concat([raw.subarray(0, cut), Buffer.from(bytes), raw.subarray(cut)]);
  };
  for (const [label, build] of [
    ['0xff before the package', (base: PackageBase) => Buffer.concat([Buffer.from([0xff]), Buffer.from(text(base))])],
    ['0xff after the package', (base: PackageBase) => Buffer.concat([Buffer.from(text(base)), Buffer.from([0xff])])],
    ['0xff inside the version', (base: PackageBase) => splice(text(base), '"version":"1.0', [0xff])],
    ['an overlong "/" inside the ciphertext', (base: PackageBase) => splice(text(base), '"ciphertext":"', [0xc0, 0xaf])],
    ['a lone continuation byte inside the nonce', (base: PackageBase) => splice(text(base), '"nonce":"', [0x80])],
    ['a cut 3-byte sequence inside the tag', (base: PackageBase) => splice(text(base), '"tag":"', [0xe2, 0x82])],
    ['an encoded surrogate inside the encrypted key', (base: PackageBase) => splice(text(base), '"encrypted_aes_key":"', [0xed, 0xa0, 0x80])],
    ['a Latin-1 byte in a field name', (base: PackageBase) => splice(text(base), '"algorithm', [0xe9])],
    ['the package in UTF-16LE', (base: PackageBase) => Buffer.from(text(base), 'utf16le')],
    ['the package in UTF-16BE with a BOM', (base: PackageBase) => {
      const le = Buffer.from(`\ufeff${text(base)}`, 'utf16le');
      for (let i = 0; i + 1 < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
      return le;
    }],
    ['0xfe 0xff between tokens', (base: PackageBase) => splice(text(base), '"algorithm":"hybrid-aes256-rsa4096",', [0xfe, 0xff])],
  ] as const) {
    add('utf8', label, build);
  }

  // Deep nesting.
  add('deep', '10,000 nested arrays', () => nestedArrays(10_000));
  add('deep', '10,000 nested objects', () => nestedObjects(10_000, 'version'));
  add('deep', '100,000 nested arrays', () => nestedArrays(100_000));
  add('deep', '10,000 unclosed arrays', () => '['.repeat(10_000));
  add('deep', 'version nested 10,000 arrays deep', (base) => rawReplace(base.pkg, '"version":"1.0"', `"version":${nestedArrays(10_000, '"1.0"')}`));
  add('deep', 'an unknown field 10,000 arrays deep', (base) => rawReplace(base.pkg, '"version":', `"deep":${nestedArrays(10_000)},"version":`), {
    kind: 'refused-or-accepted',
  });
  add('deep', 'an unknown field 10,000 objects deep', (base) => rawReplace(base.pkg, '"version":', `"deep":${nestedObjects(10_000, 'd')},"version":`), {
    kind: 'refused-or-accepted',
  });
  add('deep', 'processed_at 10,000 arrays deep', (base) => rawReplace(base.pkg, '"version":', `"processed_at":${nestedArrays(10_000)},"version":`), {
    kind: 'refused-or-accepted',
  });
  add('deep', 'encrypted_payload nested 10,000 objects deep', (base) =>
    rawReplace(base.pkg, '"encrypted_payload":', `"encrypted_payload":${nestedObjects(10_000, 'encrypted_payload', JSON.stringify(base.pkg.encrypted_payload))},"_":`),
  );
  add('deep', 'the ciphertext nested 10,000 arrays deep', (base) =>
    rawReplace(base.pkg, `"ciphertext":"${String(base.pkg.encrypted_payload.ciphertext)}"`, `"ciphertext":${nestedArrays(10_000, JSON.stringify(base.pkg.encrypted_payload.ciphertext))}`),
  );

  // Duplicate keys: JSON.parse keeps the last one; the last one here is wrong.
  add('duplicate', 'version twice, "1.0" then "2.0"', (base) => rawReplace(base.pkg, '"version":"1.0"', '"version":"1.0","version":"2.0"'));
  add('duplicate', 'encrypted_payload twice, the second without a tag', (base) =>
    rawReplace(base.pkg, '"encrypted_payload":', `"encrypted_payload":${JSON.stringify(base.pkg.encrypted_payload)},"encrypted_payload":{"ciphertext":"","nonce":""},"_":`),
  );
  add('duplicate', 'tag twice, the second one byte short', (base) => {
    const tag = String(base.pkg.encrypted_payload.tag);
    return rawReplace(base.pkg, `"tag":"${tag}"`, `"tag":"${tag}","tag":"${Buffer.from(tag, 'base64').subarray(1).toString('base64')}"`);
  });
  add('duplicate', 'encrypted_aes_key twice, the second empty', (base) => {
    const key = String(base.pkg.encrypted_aes_key);
    return rawReplace(base.pkg, `"encrypted_aes_key":"${key}"`, `"encrypted_aes_key":"${key}","encrypted_aes_key":""`);
  });
  add('duplicate', 'payload_id twice, the second another request\'s', (base) =>
    rawReplace(base.pkg, '"version":"1.0"', '"payload_id":"x","version":"1.0","payload_id":"00000000-0000-4000-8000-000000000000"'),
  );

  // Correct envelopes around plaintexts that are not acceptable answers.
  for (const sealed of SEALED_PLAINTEXTS) {
    add(sealed.outcome.kind === 'attestation-refused' ? 'attestation' : 'plaintext', sealed.name, (base) => {
      const pkg = base.sealed.get(sealed.name);
      if (!pkg) throw new Error(`corpus: no sealed package for ${sealed.name}`);
      return JSON.stringify(pkg);
    }, sealed.outcome);
  }

  // Seeded random damage: bit flips in the decoded fields, cut bodies, bad characters.
  const random = rng.fork('random');
  for (let i = 0; i < 24; i++) {
    const field = random.pick(BASE64_FIELDS);
    const position = random.float();
    const bit = random.below(8);
    add('random', `${field}: bit ${bit} flipped at ${(position * 100).toFixed(1)}% of its bytes`, (base) =>
      mutate(base, (pkg) => {
        const bytes = bytesOf(pkg, field);
        const at = Math.min(bytes.length - 1, Math.floor(position * bytes.length));
        bytes[at] = bytes[at]! ^ (1 << bit);
        setField(pkg, field, bytes.toString('base64'));
      }),
    );
  }
  for (let i = 0; i < 12; i++) {
    const position = random.float();
    add('random', `the body cut at ${(position * 100).toFixed(1)}% of its length`, (base) => {
      const body = text(base);
      return body.slice(0, Math.min(body.length - 1, Math.floor(position * body.length)));
    });
  }
  for (let i = 0; i < 12; i++) {
    const field = random.pick(BASE64_FIELDS);
    const position = random.float();
    const bad = random.pick(BAD_CHARACTERS);
    add('random', `${field}: ${JSON.stringify(bad)} in place of the character at ${(position * 100).toFixed(1)}%`, (base) =>
      mutate(base, (pkg) => {
        const value = String(getField(pkg, field));
        const at = Math.min(value.length - 1, Math.floor(position * value.length));
        setField(pkg, field, value.slice(0, at) + bad + value.slice(at + 1));
      }),
    );
  }
  for (let i = 0; i < 12; i++) {
    const field = random.pick(BASE64_FIELDS);
    const position = random.float();
    add('random', `${field}: another base64 character at ${(position * 100).toFixed(1)}%`, (base, r) =>
      mutate(base, (pkg) => {
        const value = String(getField(pkg, field));
        const dataLength = value.replace(/=+$/, '').length;
        const at = Math.min(dataLength - 1, Math.floor(position * dataLength));
        setField(pkg, field, value.slice(0, at) + otherBase64Char(value, at, r) + value.slice(at + 1));
      }),
    );
  }
  return cases;
}

/** Packages that must open: the protocol asks readers to accept these. */
export function packageControls(): PackageControl[] {
  return [
    { name: 'the package untouched', build: (base) => JSON.stringify(base.pkg) },
    { name: 'unknown extra fields', build: (base) => JSON.stringify({ ...base.pkg, server_version: '9.9', extra: { nested: [1, 2, null] } }) },
    { name: 'an unknown field inside encrypted_payload', build: (base) => mutate(base, (pkg) => (pkg.encrypted_payload.aad = '')) },
    { name: 'a 1 MB unknown field name', build: (base) => JSON.stringify({ ...base.pkg, ['u'.repeat(1024 * 1024)]: 1 }) },
    { name: 'an unknown field 100 arrays deep', build: (base) => rawReplace(base.pkg, '"version":', `"deep":${nestedArrays(100)},"version":`) },
    { name: 'a field name written with a \\u escape ("\\u0076ersion")', build: (base) => rawReplace(base.pkg, '"version":', '"\\u0076ersion":') },
    { name: 'the version written with a \\u escape ("1\\u002e0")', build: (base) => rawReplace(base.pkg, '"version":"1.0"', '"version":"1\\u002e0"') },
    {
      name: 'base64 with every "/" written "\\/" (as PHP\'s json_encode does)',
      build: (base) => JSON.stringify(base.pkg).replace(/"(ciphertext|nonce|tag|encrypted_aes_key)":"([^"]*)"/g, (_m, k: string, v: string) => `"${k}":"${v.replace(/\//g, '\\/')}"`),
    },
    {
      name: 'base64 with every "+" written "\\u002B" (as .NET\'s System.Text.Json does)',
      build: (base) => JSON.stringify(base.pkg).replace(/"(ciphertext|nonce|tag|encrypted_aes_key)":"([^"]*)"/g, (_m, k: string, v: string) => `"${k}":"${v.replace(/\+/g, '\\u002B')}"`),
    },
    { name: 'pretty-printed', build: (base) => JSON.stringify(base.pkg, null, 2) },
    { name: 'keys in reverse order', build: (base) => JSON.stringify(Object.fromEntries(Object.entries(base.pkg).reverse())) },
    { name: 'version twice, the last one "1.0"', build: (base) => rawReplace(base.pkg, '"version":"1.0"', '"version":"2.0","version":"1.0"') },
    { name: 'processed_at an object', build: (base) => JSON.stringify({ ...base.pkg, processed_at: { at: [1, 2] } }) },
    { name: 'no key_algorithm and no payload_algorithm', build: (base) => mutate(base, (pkg) => {
      delete pkg.key_algorithm;
      delete pkg.payload_algorithm;
    }) },
  ];
}
