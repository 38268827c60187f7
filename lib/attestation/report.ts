// Reads `_metadata.tpm_attestation` (PROTOCOL.md) strictly. Everything in it
// comes from the server, so nothing here throws: a malformed report is a
// verdict, not an exception.
import { decodeStrictBase64 } from './strict-base64';
import {
  isPcrBank,
  isPlainObject,
  parseDigestHex,
  parsePcrIndex,
  PCR_DIGEST_BYTES,
  type PcrBank,
} from './pcr-banks';

/** No TPM structure is larger than a 64 KiB TPM2B; base64 of that, rounded up. */
const MAX_BASE64_CHARS = 90_000;

export interface AttestationReport {
  pcrBank: PcrBank;
  /** Ascending, distinct. */
  pcrIndices: number[];
  /** One per index, in the same order. */
  pcrValues: Buffer[];
  aikPublic: Buffer;
  quote: Buffer;
  signature: Buffer;
}

export type ReportReading =
  | { kind: 'report'; report: AttestationReport }
  | { kind: 'unavailable' }
  | { kind: 'malformed'; problem: string };

function malformed(problem: string): ReportReading {
  return { kind: 'malformed', problem };
}

/** "sha256:0,7,10": one accepted bank, then canonical indices 0-23 in strictly ascending order. */
export function parsePcrBanks(value: unknown): { bank: PcrBank; indices: number[] } | string {
  if (typeof value !== 'string') return 'pcr_banks is not a string';
  const match = /^([a-z0-9_]+):([0-9]+(?:,[0-9]+)*)$/.exec(value);
  if (!match) return 'pcr_banks is not of the form "<bank>:<index>,<index>,..." with a single bank';
  const [, bank, list] = match as unknown as [string, string, string];
  if (!isPcrBank(bank)) return `pcr_banks names bank "${bank}"; accepted are sha256, sha384, sha512`;
  const indices: number[] = [];
  for (const text of list.split(',')) {
    const index = parsePcrIndex(text);
    if (index === undefined) return `pcr_banks names PCR "${text}"; PCRs are 0-23, written without leading zeros`;
    if (indices.length > 0 && index <= indices[indices.length - 1]!) {
      return 'pcr_banks must list each PCR once, in ascending order';
    }
    indices.push(index);
  }
  return { bank, indices };
}

function readBlob(report: Record<string, unknown>, field: string): Buffer | string {
  const value = report[field];
  if (typeof value !== 'string') return `${field} is not a string`;
  if (value.length === 0) return `${field} is empty`;
  if (value.length > MAX_BASE64_CHARS) return `${field} is longer than any TPM structure`;
  const bytes = decodeStrictBase64(value);
  if (bytes === undefined) return `${field} is not standard padded base64 (no whitespace, no base64url)`;
  return bytes;
}

/** The values for exactly the quoted PCRs of the one bank, in index order. */
function readPcrValues(value: unknown, bank: PcrBank, indices: number[]): Buffer[] | string {
  if (!isPlainObject(value)) return 'pcr_values is not an object';
  const banks = Object.keys(value);
  if (banks.length !== 1 || banks[0] !== bank) {
    return `pcr_values must hold exactly the bank ${bank}, it holds ${banks.join(', ') || 'none'}`;
  }
  const values = value[bank];
  if (!isPlainObject(values)) return `pcr_values.${bank} is not an object`;
  const keys = Object.keys(values);
  const expected = indices.map(String);
  if (keys.length !== expected.length || !expected.every((key) => Object.prototype.hasOwnProperty.call(values, key))) {
    return `pcr_values.${bank} must hold exactly PCRs ${expected.join(',')}, it holds ${keys.join(',') || 'none'}`;
  }
  const digestBytes = PCR_DIGEST_BYTES[bank];
  const out: Buffer[] = [];
  for (const key of expected) {
    const digest = parseDigestHex(values[key], digestBytes);
    if (digest === undefined) return `pcr_values.${bank}.${key} is not ${digestBytes * 2} hex digits`;
    out.push(digest);
  }
  return out;
}

export function readReport(value: unknown): ReportReading {
  if (!isPlainObject(value)) return malformed('tpm_attestation is not an object');
  if (value.is_available === false) return { kind: 'unavailable' };
  if (value.is_available !== true) return malformed('is_available is neither true nor false');

  const banks = parsePcrBanks(value.pcr_banks);
  if (typeof banks === 'string') return malformed(banks);
  const pcrValues = readPcrValues(value.pcr_values, banks.bank, banks.indices);
  if (typeof pcrValues === 'string') return malformed(pcrValues);
  const aikPublic = readBlob(value, 'aik_pubkey_b64');
  if (typeof aikPublic === 'string') return malformed(aikPublic);
  const quote = readBlob(value, 'quote_b64');
  if (typeof quote === 'string') return malformed(quote);
  const signature = readBlob(value, 'signature_b64');
  if (typeof signature === 'string') return malformed(signature);

  return {
    kind: 'report',
    report: { pcrBank: banks.bank, pcrIndices: banks.indices, pcrValues, aikPublic, quote, signature },
  };
}
