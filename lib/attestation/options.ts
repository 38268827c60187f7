// The caller's side of verifyAttestation: checked strictly, and a mistake in it
// throws, because it is a bug in the caller's code, not evidence from a server.
import { InvalidRequestError } from '../errors';
import { decodeStrictBase64 } from './strict-base64';
import { isPcrBank, isPlainObject, parseDigestHex, parsePcrIndex, PCR_DIGEST_BYTES, type PcrBank } from './pcr-banks';

export interface VerifyAttestationOptions {
  /** The request's X-Payload-ID: the quote must carry SHA-256(payloadId)[:16] as its nonce. */
  payloadId: string;
  /**
   * Known-good PCR values, shaped like `pcr_values`: `{ sha256: { "7": "<hex>" } }`.
   * Every PCR named here must be in the quote with exactly this value.
   */
  baseline?: Record<string, Record<string, string>>;
  /**
   * Attestation keys to accept, each an AIK fingerprint (`sha256:<hex>`, see
   * `aik.fingerprint` in a result) or an `aik_pubkey_b64` string.
   */
  trustedAikKeys?: string[];
}

export interface BaselineEntry {
  bank: PcrBank;
  index: number;
  value: Buffer;
}

export interface TrustedAikKeys {
  fingerprints: Set<string>;
  publicKeys: Buffer[];
}

export interface CheckedOptions {
  payloadId: string;
  baseline: BaselineEntry[] | undefined;
  trustedAikKeys: TrustedAikKeys | undefined;
}

const FINGERPRINT = /^sha256:[0-9a-fA-F]{64}$/;

function readBaseline(baseline: unknown): BaselineEntry[] {
  if (!isPlainObject(baseline)) throw new TypeError('options.baseline must be an object like pcr_values');
  const entries: BaselineEntry[] = [];
  for (const [bank, values] of Object.entries(baseline)) {
    if (!isPcrBank(bank)) throw new TypeError(`options.baseline: unknown PCR bank "${bank}" (sha256, sha384, sha512)`);
    if (!isPlainObject(values)) throw new TypeError(`options.baseline.${bank} must be an object of PCR index to hex`);
    for (const [key, hex] of Object.entries(values)) {
      const index = parsePcrIndex(key);
      if (index === undefined) throw new TypeError(`options.baseline.${bank}: "${key}" is not a PCR index 0-23`);
      const value = parseDigestHex(hex, PCR_DIGEST_BYTES[bank]);
      if (value === undefined) {
        throw new TypeError(`options.baseline.${bank}.${key} must be ${PCR_DIGEST_BYTES[bank] * 2} hex digits`);
      }
      entries.push({ bank, index, value });
    }
  }
  // An empty baseline would pass every quote while looking like a check.
  if (entries.length === 0) throw new TypeError('options.baseline names no PCR');
  return entries;
}

function readTrustedAikKeys(keys: unknown): TrustedAikKeys {
  if (!Array.isArray(keys)) throw new TypeError('options.trustedAikKeys must be an array of strings');
  const trusted: TrustedAikKeys = { fingerprints: new Set(), publicKeys: [] };
  for (const key of keys) {
    if (typeof key !== 'string') throw new TypeError('options.trustedAikKeys must be an array of strings');
    if (FINGERPRINT.test(key)) {
      trusted.fingerprints.add(key.toLowerCase());
      continue;
    }
    const publicKey = decodeStrictBase64(key);
    if (publicKey === undefined || publicKey.length === 0) {
      throw new TypeError('each of options.trustedAikKeys must be "sha256:<64 hex digits>" or an aik_pubkey_b64 string');
    }
    trusted.publicKeys.push(publicKey);
  }
  return trusted;
}

export function checkOptions(options: unknown): CheckedOptions {
  if (!isPlainObject(options)) throw new TypeError('verifyAttestation needs an options object with payloadId');
  const { payloadId, baseline, trustedAikKeys } = options;
  if (typeof payloadId !== 'string' || payloadId.length === 0) {
    throw new InvalidRequestError(
      "verifyAttestation needs options.payloadId, the request's X-Payload-ID, to know the quote's nonce",
      undefined,
      undefined,
      'NOMYO_ATTESTATION_NO_PAYLOAD_ID',
    );
  }
  return {
    payloadId,
    baseline: baseline === undefined ? undefined : readBaseline(baseline),
    trustedAikKeys: trustedAikKeys === undefined ? undefined : readTrustedAikKeys(trustedAikKeys),
  };
}
