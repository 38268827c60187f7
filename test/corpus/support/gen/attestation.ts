// Attestation blocks for verifyAttestation(): the genuine swtpm vectors with
// one field missing, mistyped or reshaped. Every one of them is evidence from
// a server, so each must come back verified:false, never as an exception.
import type { Rng } from '../prng';
import type { ExpectedError } from './common';
import { jsonCopy, Numbering } from './common';

/** A genuine vector, as test/fixtures/attestation/vectors.json holds it. */
export interface GenuineVector {
  name: string;
  payload_id: string;
  tpm_attestation: Record<string, unknown> & { pcr_banks: string; pcr_values: Record<string, Record<string, string>> };
}

export interface AttestationCase {
  id: string;
  group: string;
  name: string;
  vector: string;
  payloadId: string;
  /** A fresh block (or whatever stands in for one) per call. */
  block(): unknown;
}

/** Misuse of the options: the documented throws (InvalidRequestError for payloadId, TypeError for the rest). */
export interface AttestationOptionsCase {
  id: string;
  name: string;
  options: () => unknown;
  expect: ExpectedError;
}

const BLOB_FIELDS = ['aik_pubkey_b64', 'quote_b64', 'signature_b64'] as const;
const ALL_FIELDS = ['is_available', 'pcr_banks', 'pcr_values', ...BLOB_FIELDS] as const;

type Block = GenuineVector['tpm_attestation'];

const WRONG_TYPES: Array<[string, unknown]> = [
  ['null', null],
  ['0', 0],
  ['1', 1],
  ['true', true],
  ['false', false],
  ['an empty string', ''],
  ['[]', []],
  ['{}', {}],
];

function bankOf(block: Block): string {
  return block.pcr_banks.split(':')[0]!;
}

function indicesOf(block: Block): string[] {
  return block.pcr_banks.split(':')[1]!.split(',');
}

export function generateAttestationCases(rng: Rng, vectors: readonly GenuineVector[]): AttestationCase[] {
  const cases: AttestationCase[] = [];
  const ids = new Numbering('attestation');
  for (const vector of vectors) {
    // A case that draws random bytes gets a generator of its own, re-seeded on
    // every call: the same case builds the same block every time.
    const add = (group: string, name: string, make: (r: Rng) => unknown): void => {
      const id = ids.id(group);
      cases.push({ id, group, name, vector: vector.name, payloadId: vector.payload_id, block: () => make(rng.fork(`build:${id}`)) });
    };
    const edit = (group: string, name: string, change: (block: Block, r: Rng) => void): void => {
      add(group, name, (r) => {
        const block = jsonCopy(vector.tpm_attestation);
        change(block, r);
        return block;
      });
    };

    // The block itself.
    for (const [label, value] of [
      ['undefined', undefined],
      ['null', null],
      ['a string', 'is_available'],
      ['a number', 1],
      ['true', true],
      ['an empty array', []],
      ['the block in an array', [vector.tpm_attestation]],
      ['an empty object', {}],
      ['the block as a JSON string', JSON.stringify(vector.tpm_attestation)],
    ] as Array<[string, unknown]>) {
      add('block', `the block is ${label}`, () => (value === undefined ? undefined : jsonCopy(value)));
    }
    add('block', 'the block nested in another', () => ({ tpm_attestation: jsonCopy(vector.tpm_attestation) }));

    // Every field missing, or of another type.
    for (const field of ALL_FIELDS) {
      edit('missing', `no ${field}`, (block) => delete block[field]);
      for (const [label, value] of WRONG_TYPES) {
        if (field === 'is_available' && typeof value === 'boolean') continue; // true is the genuine value, false a real answer (below)
        edit('mistyped', `${field} is ${label}`, (block) => ((block as Record<string, unknown>)[field] = jsonCopy({ v: value }).v));
      }
    }

    // is_available.
    for (const [label, value] of [
      ['"true"', 'true'],
      ['"false"', 'false'],
      ['"yes"', 'yes'],
      ['[true]', [true]],
      ['{"value": true}', { value: true }],
      ['-1', -1],
    ] as Array<[string, unknown]>) {
      edit('is_available', `is_available is ${label}`, (block) => (block.is_available = value));
    }
    edit('is_available', 'is_available false, with a genuine quote beside it', (block) => (block.is_available = false));

    // pcr_banks.
    const bank = bankOf(vector.tpm_attestation);
    const indices = indicesOf(vector.tpm_attestation);
    for (const banks of [
      '',
      bank,
      `${bank}:`,
      `${bank}:${indices.join(',')},`,
      `${bank}:${[...indices].reverse().join(',')}`,
      `${bank}:${indices[0]},${indices.join(',')}`,
      `${bank}:${indices.join(',')},24`,
      `${bank}:-1`,
      `${bank}:0${indices.join(',')}`,
      `${bank.toUpperCase()}:${indices.join(',')}`,
      `sha1:${indices.join(',')}`,
      `md5:${indices.join(',')}`,
      `${bank}:${indices.join(',')}+sha384:0`,
      ` ${bank}:${indices.join(',')}`,
      `${bank}:${indices.join(', ')}`,
      `${bank}:${indices.slice(0, -1).join(',') || '0'}`,
      `${bank}:${indices.join(',')},23`,
      `${bank}:1e1`,
      `${bank}:${indices.join(',')}\u0000`,
      `${bank}:${'0,'.repeat(10_000)}0`,
    ]) {
      edit('pcr_banks', `pcr_banks ${JSON.stringify(banks.length > 60 ? `${banks.slice(0, 60)}…` : banks)}`, (block) => (block.pcr_banks = banks));
    }

    // pcr_values shapes.
    const firstIndex = indices[0]!;
    const values = (block: Block): Record<string, string> => block.pcr_values[bank]!;
    const reshape: Array<[string, (block: Block, r: Rng) => void]> = [
      ['an array of the values', (block) => ((block as Record<string, unknown>).pcr_values = Object.values(values(block)))],
      ['the bank as an array', (block) => ((block.pcr_values as Record<string, unknown>)[bank] = Object.values(values(block)))],
      ['no banks', (block) => (block.pcr_values = {})],
      ['the bank renamed', (block) => (block.pcr_values = { [bank === 'sha384' ? 'sha256' : 'sha384']: values(block) })],
      ['a second bank', (block) => (block.pcr_values = { ...block.pcr_values, sha512: { '0': '00'.repeat(64) } })],
      ['an extra PCR', (block) => (values(block)['23'] = '00'.repeat(values(block)[firstIndex]!.length / 2))],
      ['a PCR missing', (block) => delete values(block)[firstIndex]],
      [`PCR "${firstIndex}" written "0${firstIndex}"`, (block) => {
        const value = values(block)[firstIndex]!;
        delete values(block)[firstIndex];
        values(block)[`0${firstIndex}`] = value;
      }],
      ['a value one hex digit short', (block) => (values(block)[firstIndex] = values(block)[firstIndex]!.slice(0, -1))],
      ['a value one byte long', (block) => (values(block)[firstIndex] = `${values(block)[firstIndex]!}00`)],
      ['a value with a non-hex digit', (block) => (values(block)[firstIndex] = `g${values(block)[firstIndex]!.slice(1)}`)],
      ['a value with "0x" in front', (block) => (values(block)[firstIndex] = `0x${values(block)[firstIndex]!.slice(2)}`)],
      ['a value as a number', (block) => ((values(block) as Record<string, unknown>)[firstIndex] = 0)],
      ['a value null', (block) => ((values(block) as Record<string, unknown>)[firstIndex] = null)],
      ['a value as an array of bytes', (block) => ((values(block) as Record<string, unknown>)[firstIndex] = [...Buffer.from(values(block)[firstIndex]!, 'hex')])],
      ['a value as base64', (block) => (values(block)[firstIndex] = Buffer.from(values(block)[firstIndex]!, 'hex').toString('base64'))],
      ['a value changed in one digit', (block, r) => {
        const value = values(block)[firstIndex]!;
        const at = r.below(value.length);
        values(block)[firstIndex] = value.slice(0, at) + (value[at] === 'f' ? '0' : 'f') + value.slice(at + 1);
      }],
      ['two values swapped', (block) => {
        const [a, b] = indices;
        if (b === undefined) {
          values(block)[a!] = '11'.repeat(values(block)[a!]!.length / 2);
          return;
        }
        [values(block)[a!], values(block)[b]] = [values(block)[b]!, values(block)[a!]!];
      }],
    ];
    for (const [name, change] of reshape) edit('pcr_values', `pcr_values with ${name}`, change);
    add('pcr_values', 'pcr_values with a "__proto__" bank (from JSON)', () => {
      const text = JSON.stringify(vector.tpm_attestation).replace('"pcr_values":{', '"pcr_values":{"__proto__":{"0":"00"},');
      return JSON.parse(text) as unknown;
    });

    // The three blobs.
    for (const field of BLOB_FIELDS) {
      const blobEdits: Array<[string, (value: string, r: Rng) => string]> = [
        ['with a line break', (v) => `${v.slice(0, 10)}\n${v.slice(10)}`],
        ['as base64url', (v) => Buffer.from(v, 'base64').toString('base64url')],
        ['without padding', (v) => (v.endsWith('=') ? v.replace(/=+$/, '') : v.slice(0, -4))],
        ['with one "=" too many', (v) => `${v}=`],
        ['90,004 characters long', () => 'AAAA'.repeat(22_501)],
        ['with a "!" in it', (v) => `${v.slice(0, 8)}!${v.slice(9)}`],
        ['one byte short', (v) => Buffer.from(v, 'base64').subarray(0, -1).toString('base64')],
        ['with a trailing byte', (v) => Buffer.concat([Buffer.from(v, 'base64'), Buffer.from([0])]).toString('base64')],
        ['of random bytes', (v, r) => r.bytes(Buffer.from(v, 'base64').length).toString('base64')],
        ['in hex', (v) => Buffer.from(v, 'base64').toString('hex')],
      ];
      for (const [label, change] of blobEdits) edit('blob', `${field} ${label}`, (block, r) => (block[field] = change(String(block[field]), r)));
    }
    edit('blob', 'quote_b64 and signature_b64 swapped', (block) => ([block.quote_b64, block.signature_b64] = [block.signature_b64, block.quote_b64]));
    edit('blob', 'aik_pubkey_b64 and quote_b64 swapped', (block) => ([block.aik_pubkey_b64, block.quote_b64] = [block.quote_b64, block.aik_pubkey_b64]));
    edit('blob', 'the quote of another vector', (block) => {
      const other = vectors.find((v) => v.name !== vector.name);
      if (other) block.quote_b64 = other.tpm_attestation.quote_b64;
      else block.quote_b64 = 'AAAA';
    });
  }
  return cases;
}

/** A genuine vector with a payload id of another request, and other caller-side variations that must not verify. */
export function generateAttestationNonceCases(vectors: readonly GenuineVector[]): AttestationCase[] {
  const cases: AttestationCase[] = [];
  const ids = new Numbering('attestation');
  for (const vector of vectors) {
    const add = (name: string, payloadId: string): void => {
      cases.push({ id: ids.id('payload-id'), group: 'payload-id', name, vector: vector.name, payloadId, block: () => jsonCopy(vector.tpm_attestation) });
    };
    add('the payload id of another request', '00000000-0000-4000-8000-000000000000');
    add('the payload id in upper case', vector.payload_id.toUpperCase() === vector.payload_id ? `${vector.payload_id}x` : vector.payload_id.toUpperCase());
    add('the payload id with a trailing space', `${vector.payload_id} `);
  }
  return cases;
}

export function generateAttestationOptionsCases(vector: GenuineVector): AttestationOptionsCase[] {
  const ids = new Numbering('attestation');
  const noPayloadId: ExpectedError = { class: 'InvalidRequestError', codes: ['NOMYO_ATTESTATION_NO_PAYLOAD_ID'] };
  const typeError: ExpectedError = { class: 'TypeError' };
  const cases: Array<[string, () => unknown, ExpectedError]> = [
    ['options without payloadId', () => ({}), noPayloadId],
    ['payloadId empty', () => ({ payloadId: '' }), noPayloadId],
    ['payloadId a number', () => ({ payloadId: 42 }), noPayloadId],
    ['payloadId null', () => ({ payloadId: null }), noPayloadId],
    ['payloadId a String object', () => ({ payloadId: Object(vector.payload_id) as unknown }), noPayloadId],
    ['no options at all', () => undefined, typeError],
    ['options null', () => null, typeError],
    ['options a string (the payload id)', () => vector.payload_id, typeError],
    ['options an array', () => [vector.payload_id], typeError],
    ['baseline {} (names no PCR)', () => ({ payloadId: vector.payload_id, baseline: {} }), typeError],
    ['baseline with a sha1 bank', () => ({ payloadId: vector.payload_id, baseline: { sha1: { '0': '00'.repeat(20) } } }), typeError],
    ['baseline with a value that is not hex', () => ({ payloadId: vector.payload_id, baseline: { sha256: { '0': 'zz' } } }), typeError],
    ['baseline with PCR 24', () => ({ payloadId: vector.payload_id, baseline: { sha256: { '24': '00'.repeat(32) } } }), typeError],
    ['baseline an array', () => ({ payloadId: vector.payload_id, baseline: [] }), typeError],
    ['baseline with the bank an array', () => ({ payloadId: vector.payload_id, baseline: { sha256: ['00'.repeat(32)] } }), typeError],
    ['trustedAikKeys a string', () => ({ payloadId: vector.payload_id, trustedAikKeys: 'sha256:00' }), typeError],
    ['trustedAikKeys [42]', () => ({ payloadId: vector.payload_id, trustedAikKeys: [42] }), typeError],
    ['trustedAikKeys ["not base64!"]', () => ({ payloadId: vector.payload_id, trustedAikKeys: ['not base64!'] }), typeError],
    ['trustedAikKeys [""]', () => ({ payloadId: vector.payload_id, trustedAikKeys: [''] }), typeError],
  ];
  return cases.map(([name, options, expect]) => ({ id: ids.id('options'), name, options, expect }));
}
