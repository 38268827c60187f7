// Fuzz-style robustness over the genuine vectors: random truncations and
// single-byte changes of each blob (seeded, so every run tests the same cases)
// never crash, never throw, and never verify -- with one principled exception,
// checked below: AIK metadata the verifier deliberately does not judge.
import { verifyAttestation } from '../../lib/attestation';
import { productionBinding } from '../helpers/backends';
import { loadVectors, copyBlock, type TpmAttestationBlock } from './vectors';

/** mulberry32: a small seeded PRNG, enough to pick positions and masks. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BLOBS = ['aik_pubkey_b64', 'quote_b64', 'signature_b64'] as const;
type Blob = (typeof BLOBS)[number];
const TRUNCATIONS_PER_BLOB = 60;
const FLIPS_PER_BLOB = 120;

// TPM2B_PUBLIC: size(2) type(2) nameAlg(2) objectAttributes(4). nameAlg only
// names the hash of the key's Name, and these attributes say how the key's
// owner authorises its use; neither changes what the key's signature proves,
// and the TPM's qualifiedSigner (which would bind them) cannot be recomputed
// offline. trustedAikKeys pins the exact bytes for callers who need that.
const NAME_ALG = [4, 5];
const ATTRIBUTES = [6, 7, 8, 9];
const REQUIRED_ATTRIBUTES = ['restricted', 'sign', 'fixedtpm', 'fixedparent', 'sensitivedataorigin'];

const file = loadVectors();
const genuineVectors = file.vectors.filter((v) => v.expect.verified);

function mutated(block: TpmAttestationBlock, blob: Blob, bytes: Buffer): TpmAttestationBlock {
  const copy = copyBlock(block);
  copy[blob] = bytes.toString('base64');
  return copy;
}

describe.each(genuineVectors.map((v) => [v.name, v] as const))('mutations of %s', (_name, v) => {
  const random = prng(0x5eed ^ v.name.length ^ (v.name.charCodeAt(8) << 8));

  it.each(BLOBS.map((blob) => [blob]))('truncated %s never verifies', (blob) => {
    const bytes = Buffer.from(v.tpm_attestation[blob], 'base64');
    const lengths = new Set([0, 1, 2, bytes.length - 1]);
    while (lengths.size < TRUNCATIONS_PER_BLOB) lengths.add(Math.floor(random() * bytes.length));
    for (const length of lengths) {
      const result = verifyAttestation(mutated(v.tpm_attestation, blob, bytes.subarray(0, length)), { payloadId: v.payload_id });
      expect(result.verified).toBe(false);
      expect(result.failure).toEqual(expect.any(String));
    }
  });

  it.each(BLOBS.map((blob) => [blob]))('%s with one byte changed never verifies', (blob) => {
    const bytes = Buffer.from(v.tpm_attestation[blob], 'base64');
    for (let i = 0; i < FLIPS_PER_BLOB; i++) {
      const position = Math.floor(random() * bytes.length);
      const changed = Buffer.from(bytes);
      changed[position]! ^= 1 + Math.floor(random() * 255);
      const result = verifyAttestation(mutated(v.tpm_attestation, blob, changed), { payloadId: v.payload_id });
      if (!result.verified) {
        expect(result.failure).toEqual(expect.any(String));
        continue;
      }
      // The exception: only in the AIK, only in nameAlg or unjudged attribute bits.
      expect(blob).toBe('aik_pubkey_b64');
      expect([...NAME_ALG, ...ATTRIBUTES]).toContain(position);
      expect(result.aik!.attributes).toEqual(expect.arrayContaining(REQUIRED_ATTRIBUTES));
      expect(result.aik!.attributes).not.toContain('decrypt');
      // Such a key is a different key to trustedAikKeys.
      const pinned = verifyAttestation(mutated(v.tpm_attestation, blob, changed), {
        payloadId: v.payload_id,
        trustedAikKeys: [v.tpm_attestation.aik_pubkey_b64],
      });
      expect(pinned.verified).toBe(false);
    }
  });
});

describe('the exception, shown once', () => {
  it('an AIK with userwithauth cleared still verifies, and is another key to trustedAikKeys', () => {
    const v = genuineVectors.find((candidate) => candidate.name === 'genuine-ecc-p256')!;
    const aik = Buffer.from(v.tpm_attestation.aik_pubkey_b64, 'base64');
    const changed = Buffer.from(aik);
    changed[9]! &= ~0x40; // TPMA_OBJECT userWithAuth, bit 6
    const block = mutated(v.tpm_attestation, 'aik_pubkey_b64', changed);
    const result = verifyAttestation(block, { payloadId: v.payload_id });
    expect(result.verified).toBe(true);
    expect(result.aik!.attributes).not.toContain('userwithauth');
    const pinned = verifyAttestation(block, { payloadId: v.payload_id, trustedAikKeys: [v.tpm_attestation.aik_pubkey_b64] });
    expect(pinned.checks.trusted_aik).toBe('fail');
  });
});

describe('arbitrary bytes', () => {
  it('never make the native verifier throw', () => {
    const binding = productionBinding();
    const random = prng(0xa77e57);
    const bytes = (max: number) => Buffer.from(Array.from({ length: Math.floor(random() * max) }, () => Math.floor(random() * 256)));
    for (let i = 0; i < 500; i++) {
      const verdict = binding.verifyQuote({
        aikPublic: bytes(400),
        quote: bytes(300),
        signature: bytes(300),
        expectedNonce: Buffer.alloc(16, 1),
        pcrBank: 'sha256',
        pcrIndices: [0, 7],
        pcrValues: [bytes(40), bytes(40)],
      });
      expect(verdict.verified).toBe(false);
    }
  });
});
