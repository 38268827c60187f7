// PCR banks and indices as the report and a caller's baseline name them.

export type PcrBank = 'sha256' | 'sha384' | 'sha512';

/** Digest size in bytes of each bank the verifier accepts; SHA-1 banks are refused. */
export const PCR_DIGEST_BYTES: Readonly<Record<PcrBank, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** PC Client TPMs have PCRs 0-23. */
export const MAX_PCR_INDEX = 23;

export function isPcrBank(name: string): name is PcrBank {
  return Object.prototype.hasOwnProperty.call(PCR_DIGEST_BYTES, name);
}

/** A PCR index written canonically ("7", not "07" or "7.0"), 0-23; else undefined. */
export function parsePcrIndex(text: string): number | undefined {
  if (!/^(?:0|[1-9][0-9]?)$/.test(text)) return undefined;
  const index = Number(text);
  return index <= MAX_PCR_INDEX ? index : undefined;
}

/** Hex of exactly `bytes` bytes (either case); else undefined. */
export function parseDigestHex(value: unknown, bytes: number): Buffer | undefined {
  if (typeof value !== 'string' || value.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(value)) return undefined;
  return Buffer.from(value, 'hex');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
