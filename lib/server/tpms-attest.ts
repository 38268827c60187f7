// Just enough of a TPMS_ATTEST (TPM 2.0 Part 2, 10.12.12) for the server to
// check its own quote before sending it: the nonce it carries and the PCR
// digest it signs. Clients verify with lib/attestation; this is no verifier.

const TPM_GENERATED_VALUE = 0xff544347;
const TPM_ST_ATTEST_QUOTE = 0x8018;
/** clock (8), resetCount (4), restartCount (4), safe (1), then firmwareVersion (8). */
const CLOCK_INFO_AND_FIRMWARE_BYTES = 17 + 8;

export interface QuoteInfo {
  extraData: Buffer;
  pcrDigest: Buffer;
}

class Reader {
  #offset = 0;
  constructor(private readonly bytes: Buffer) {}

  take(length: number): Buffer {
    if (this.#offset + length > this.bytes.length) throw new RangeError('TPMS_ATTEST is truncated');
    const slice = this.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }

  u8(): number {
    return this.take(1).readUInt8(0);
  }

  u16(): number {
    return this.take(2).readUInt16BE(0);
  }

  u32(): number {
    return this.take(4).readUInt32BE(0);
  }

  sized(): Buffer {
    return this.take(this.u16());
  }

  get atEnd(): boolean {
    return this.#offset === this.bytes.length;
  }
}

/** The nonce and PCR digest of a marshalled quote TPMS_ATTEST; throws when it is not exactly one. */
export function readQuoteInfo(attest: Buffer): QuoteInfo {
  const reader = new Reader(attest);
  if (reader.u32() !== TPM_GENERATED_VALUE) throw new RangeError('TPMS_ATTEST magic is not TPM_GENERATED_VALUE');
  if (reader.u16() !== TPM_ST_ATTEST_QUOTE) throw new RangeError('TPMS_ATTEST is not a quote');
  reader.sized(); // qualifiedSigner
  const extraData = reader.sized();
  reader.take(CLOCK_INFO_AND_FIRMWARE_BYTES);
  const selections = reader.u32();
  for (let i = 0; i < selections; i++) {
    reader.u16(); // hash
    reader.take(reader.u8()); // pcrSelect bitmap
  }
  const pcrDigest = reader.sized();
  if (!reader.atEnd) throw new RangeError('TPMS_ATTEST has trailing bytes');
  return { extraData: Buffer.from(extraData), pcrDigest: Buffer.from(pcrDigest) };
}
