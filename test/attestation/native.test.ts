// The native verifier's own contract: argument checking, the list of checks,
// the facts it reports, and the libtss2-mu loader's failure reports.
import { createHash } from 'node:crypto';
import { QUOTE_CHECKS } from '../../lib/attestation';
import type { NativeQuoteInput } from '../../lib/native/binding';
import { productionBinding, testHooksBinding } from '../helpers/backends';
import { loadVectors, vector } from './vectors';

const binding = productionBinding();
const genuine = vector(loadVectors(), 'genuine-ecc-p256');

function input(): NativeQuoteInput {
  const block = genuine.tpm_attestation;
  return {
    aikPublic: Buffer.from(block.aik_pubkey_b64, 'base64'),
    quote: Buffer.from(block.quote_b64, 'base64'),
    signature: Buffer.from(block.signature_b64, 'base64'),
    expectedNonce: createHash('sha256').update(genuine.payload_id).digest().subarray(0, 16),
    pcrBank: 'sha256',
    pcrIndices: [0, 7, 10],
    pcrValues: ['0', '7', '10'].map((index) => Buffer.from(block.pcr_values.sha256![index]!, 'hex')),
  };
}

describe('verifyQuote', () => {
  it('lists every check, in the order failures are reported', () => {
    const verdict = binding.verifyQuote(input());
    expect(verdict.verified).toBe(true);
    expect(Object.keys(verdict.checks)).toEqual([...QUOTE_CHECKS]);
    expect(verdict.problems).toEqual({});
  });

  it('fingerprints the TPM2B_PUBLIC bytes', () => {
    const args = input();
    expect(binding.verifyQuote(args).aik!.fingerprint).toBe(
      `sha256:${createHash('sha256').update(args.aikPublic).digest('hex')}`,
    );
  });

  it('takes plain Uint8Arrays as well as Buffers', () => {
    const args = input();
    const plain = (bytes: Uint8Array) => new Uint8Array(bytes);
    const verdict = binding.verifyQuote({
      ...args,
      aikPublic: plain(args.aikPublic),
      quote: plain(args.quote),
      signature: plain(args.signature),
      pcrValues: args.pcrValues.map(plain),
    });
    expect(verdict.verified).toBe(true);
  });

  it('judges empty blobs instead of throwing', () => {
    const verdict = binding.verifyQuote({ ...input(), aikPublic: new Uint8Array(0), quote: new Uint8Array(0), signature: new Uint8Array(0) });
    expect(verdict.verified).toBe(false);
    expect(verdict.checks).toMatchObject({ aik_structure: 'fail', quote_structure: 'fail', signature_structure: 'fail', signature: 'skipped' });
    expect(verdict.failure).toMatch(/^aik_structure: TPM2B_PUBLIC: 0 bytes/);
  });

  it('a nonce of another length fails the nonce check', () => {
    const verdict = binding.verifyQuote({ ...input(), expectedNonce: new Uint8Array(32) });
    expect(verdict.checks.nonce).toBe('fail');
    expect(verdict.problems.nonce).toBe('extraData is 16 bytes, the expected nonce 32');
  });

  it('PCR values of the wrong length fail the digest check', () => {
    const args = input();
    const verdict = binding.verifyQuote({ ...args, pcrValues: [args.pcrValues[0]!, args.pcrValues[1]!.subarray(1), args.pcrValues[2]!] });
    expect(verdict.checks.pcr_digest).toBe('fail');
    expect(verdict.problems.pcr_digest).toBe('PCR 7 is 31 bytes, sha256 values are 32');
  });

  const misuse: Array<[string, () => unknown]> = [
    ['no argument', () => (binding.verifyQuote as (...a: unknown[]) => unknown)()],
    ['two arguments', () => (binding.verifyQuote as (...a: unknown[]) => unknown)(input(), input())],
    ['a string', () => binding.verifyQuote('quote' as never)],
    ['aikPublic as base64', () => binding.verifyQuote({ ...input(), aikPublic: 'AAAA' as never })],
    ['quote as an Int8Array', () => binding.verifyQuote({ ...input(), quote: new Int8Array(4) as never })],
    ['signature missing', () => binding.verifyQuote({ ...input(), signature: undefined as never })],
    ['an empty nonce', () => binding.verifyQuote({ ...input(), expectedNonce: new Uint8Array(0) })],
    ['a 65-byte nonce', () => binding.verifyQuote({ ...input(), expectedNonce: new Uint8Array(65) })],
    ['the sha1 bank', () => binding.verifyQuote({ ...input(), pcrBank: 'sha1' as never })],
    ['indices out of order', () => binding.verifyQuote({ ...input(), pcrIndices: [0, 10, 7] })],
    ['a repeated index', () => binding.verifyQuote({ ...input(), pcrIndices: [0, 7, 7] })],
    ['index 24', () => binding.verifyQuote({ ...input(), pcrIndices: [0, 7, 24] })],
    ['a fractional index', () => binding.verifyQuote({ ...input(), pcrIndices: [0, 7, 9.5] })],
    ['a negative index', () => binding.verifyQuote({ ...input(), pcrIndices: [-1, 7, 10] })],
    ['NaN as an index', () => binding.verifyQuote({ ...input(), pcrIndices: [0, 7, NaN] })],
    ['a string index', () => binding.verifyQuote({ ...input(), pcrIndices: [0, 7, '10' as never] })],
    ['fewer values than indices', () => binding.verifyQuote({ ...input(), pcrValues: input().pcrValues.slice(1) })],
    ['a value as hex', () => binding.verifyQuote({ ...input(), pcrValues: ['00', '00', '00'] as never })],
  ];
  it.each(misuse)('throws a TypeError for %s', (_name, call) => {
    // The addon's TypeError comes from Node's realm, not jest's sandbox: compare by name.
    expect(call).toThrow(expect.objectContaining({ name: 'TypeError' }) as unknown as Error);
  });
});

describe('libtss2-mu at run time', () => {
  it('is there on this machine', () => {
    expect(binding.tss2Available()).toEqual({ available: true });
  });

  describe('load failures, through the test-hooks build', () => {
    const hooks = testHooksBinding();
    const tryLoad = hooks.attestationTesting!.tss2TryLoad;

    it('reports a library that is not installed', () => {
      const result = tryLoad('libnomyo-no-such-library.so.0');
      expect(result.available).toBe(false);
      expect(result.reason).toMatch(/libnomyo-no-such-library\.so\.0: cannot open shared object file/);
    });

    it('reports a library without the unmarshalling functions', () => {
      const result = tryLoad('libc.so.6');
      expect(result).toEqual({ available: false, reason: expect.stringMatching(/^libc\.so\.6 has no Tss2_MU_TPMT_PUBLIC_Unmarshal/) });
    });

    it('loads the real one, and a trial load never changes what verifyQuote uses', () => {
      expect(tryLoad('libtss2-mu.so.0')).toEqual({ available: true });
      tryLoad('libc.so.6');
      expect(hooks.tss2Available()).toEqual({ available: true });
      expect(hooks.verifyQuote(input()).verified).toBe(true);
    });
  });
});
