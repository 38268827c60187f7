// The TypeScript side of verifyAttestation: strict reading of the report, the
// caller's options, baseline and trusted keys, and what a result says.
import { createHash } from 'node:crypto';
import { InvalidRequestError } from '../../lib/errors';
import { attestationNonce, EPHEMERAL_AIK_LIMITATION, verifyAttestation } from '../../lib/attestation';
import { decodeStrictBase64 } from '../../lib/attestation/strict-base64';
import { parsePcrBanks } from '../../lib/attestation/report';
import { copyBlock, loadVectors, vector, type TpmAttestationBlock } from './vectors';

const file = loadVectors();
const genuine = vector(file, 'genuine-ecc-p256');
const payloadId = genuine.payload_id;

function verify(block: unknown, options: Partial<Parameters<typeof verifyAttestation>[1]> = {}) {
  return verifyAttestation(block, { payloadId, ...options });
}

function edited(edit: (block: TpmAttestationBlock & Record<string, unknown>) => void): TpmAttestationBlock {
  const block = copyBlock(genuine.tpm_attestation) as TpmAttestationBlock & Record<string, unknown>;
  edit(block);
  return block;
}

describe('strict base64', () => {
  it.each(['', 'QQ==', 'QUI=', 'QUJD', 'ab+/'])('accepts %j', (text) => {
    expect(decodeStrictBase64(text)).toBeDefined();
  });
  it.each(['QQ', 'QQ=', 'QR==', 'QU I=', 'QUI=\n', 'ab-_', 'Q===', 'QQ==QQ==', '=QQ=', 'QUJD\r\n', 'QU\tJD'])(
    'refuses %j, which Node would decode',
    (text) => {
      expect(decodeStrictBase64(text)).toBeUndefined();
    },
  );
});

describe('pcr_banks', () => {
  it('reads one bank and its indices', () => {
    expect(parsePcrBanks('sha256:0,7,10')).toEqual({ bank: 'sha256', indices: [0, 7, 10] });
    expect(parsePcrBanks('sha384:23')).toEqual({ bank: 'sha384', indices: [23] });
  });
  it.each([
    'sha256:0,07',
    'sha256:7,0',
    'sha256:0,0',
    'sha256:24',
    'sha256:',
    'sha256',
    'sha1:0,7',
    'SHA256:0',
    'sha256:0,7+sha384:0',
    ' sha256:0',
    'sha256:0, 7',
    'sha256:-1',
    'md5:0',
  ])('refuses %j', (text) => {
    expect(typeof parsePcrBanks(text)).toBe('string');
  });
  it('refuses a non-string', () => {
    expect(typeof parsePcrBanks(7)).toBe('string');
  });
});

describe('a malformed report is a verdict, never an exception', () => {
  it.each([
    ['null', null],
    ['a string', 'tpm'],
    ['an array', []],
    ['a number', 1],
    ['is_available as a string', edited((b) => void (b.is_available = 'true' as unknown as boolean))],
    ['is_available missing', edited((b) => void delete (b as Record<string, unknown>).is_available)],
    ['pcr_values with a second bank', edited((b) => void (b.pcr_values.sha1 = { '0': '00'.repeat(20) }))],
    ['pcr_values missing a PCR', edited((b) => void delete b.pcr_values.sha256!['7'])],
    ['pcr_values with an extra PCR', edited((b) => void (b.pcr_values.sha256!['11'] = '00'.repeat(32)))],
    ['pcr_values with a short value', edited((b) => void (b.pcr_values.sha256!['7'] = '00'.repeat(31)))],
    ['pcr_values with non-hex', edited((b) => void (b.pcr_values.sha256!['7'] = 'zz'.repeat(32)))],
    ['pcr_values with a number', edited((b) => void ((b.pcr_values.sha256 as Record<string, unknown>)['7'] = 7))],
    ['pcr_values index written "07"', edited((b) => {
      b.pcr_values.sha256!['07'] = b.pcr_values.sha256!['7']!;
      delete b.pcr_values.sha256!['7'];
    })],
    ['an empty signature', edited((b) => void (b.signature_b64 = ''))],
    ['a missing quote', edited((b) => void delete (b as Record<string, unknown>).quote_b64)],
    ['an enormous quote', edited((b) => void (b.quote_b64 = 'A'.repeat(200_000)))],
  ])('%s', (_name, block) => {
    const result = verify(block);
    expect(result.verified).toBe(false);
    expect(result.checks.report_format).toBe('fail');
    expect(result.failure).toMatch(/^report_format: /);
    expect(result.checks.signature).toBe('skipped');
  });

  it('accepts upper-case hex PCR values', () => {
    const block = edited((b) => {
      for (const key of Object.keys(b.pcr_values.sha256!)) b.pcr_values.sha256![key] = b.pcr_values.sha256![key]!.toUpperCase();
    });
    expect(verify(block).verified).toBe(true);
  });

  it('ignores unknown fields, as the protocol asks of readers', () => {
    expect(verify(edited((b) => void (b.vendor_note = 'x'))).verified).toBe(true);
  });
});

describe('is_available: false', () => {
  it('is not verified and says why in so many words', () => {
    const result = verify({ is_available: false });
    expect(result).toMatchObject({ verified: false, failure: 'attestation not available' });
    expect(result.checks.available).toBe('fail');
    expect(result.quote).toBeUndefined();
  });
});

describe('misuse throws', () => {
  it('without options or payloadId', () => {
    expect(() => verifyAttestation(genuine.tpm_attestation, undefined as never)).toThrow(TypeError);
    expect(() => verifyAttestation(genuine.tpm_attestation, {} as never)).toThrow(InvalidRequestError);
    expect(() => verifyAttestation(genuine.tpm_attestation, { payloadId: '' })).toThrow(InvalidRequestError);
    expect(() => verifyAttestation(genuine.tpm_attestation, { payloadId: 42 } as never)).toThrow(InvalidRequestError);
  });

  it.each([
    ['not an object', 'sha256'],
    ['an unknown bank', { sha1: { '0': '00'.repeat(20) } }],
    ['a bad index', { sha256: { '24': '00'.repeat(32) } }],
    ['a short value', { sha256: { '7': '00' } }],
    ['no PCR at all', {}],
    ['an empty bank', { sha256: {} }],
  ])('a baseline that is %s', (_name, baseline) => {
    expect(() => verify(genuine.tpm_attestation, { baseline: baseline as never })).toThrow(TypeError);
  });

  it.each([
    ['not an array', 'sha256:00'],
    ['a number inside', [1]],
    ['neither fingerprint nor base64', ['sha256:1234']],
    ['base64url', ['ab-_']],
  ])('trustedAikKeys that are %s', (_name, keys) => {
    expect(() => verify(genuine.tpm_attestation, { trustedAikKeys: keys as never })).toThrow(TypeError);
  });
});

describe('the result', () => {
  const result = verify(genuine.tpm_attestation);

  it('reports the quote and the AIK', () => {
    const aikBytes = Buffer.from(genuine.tpm_attestation.aik_pubkey_b64, 'base64');
    expect(result.aik).toMatchObject({
      fingerprint: `sha256:${createHash('sha256').update(aikBytes).digest('hex')}`,
      type: 'ecc',
      curve: 'P-256',
      scheme: 'ecdsa',
      hash: 'sha256',
    });
    expect(result.aik!.attributes).toEqual(expect.arrayContaining(['restricted', 'sign', 'fixedtpm', 'fixedparent', 'sensitivedataorigin']));
    expect(result.quote).toMatchObject({
      type: 'quote',
      extraData: attestationNonce(payloadId).toString('hex'),
      pcrSelection: [{ bank: 'sha256', pcrs: [0, 7, 10] }],
      signature: { algorithm: 'ecdsa', hash: 'sha256' },
    });
    expect(result.quote!.clock).toMatch(/^[0-9]+$/);
    expect(result.quote!.firmwareVersion).toMatch(/^0x[0-9a-f]{16}$/);
    expect(result.quote!.qualifiedSigner).toMatch(/^000b[0-9a-f]{64}$/);
    expect(typeof result.quote!.safe).toBe('boolean');
  });

  it('says what it cannot prove', () => {
    expect(result.limitations).toContain(EPHEMERAL_AIK_LIMITATION);
    const text = result.limitations.join(' ');
    expect(text).toMatch(/endorsement key/);
    expect(text).toMatch(/not that the key lives in a genuine TPM/);
    expect(text).toMatch(/integrity and freshness/);
    expect(text).toMatch(/only against a baseline you set/);
  });

  it('the nonce is SHA-256 of the payload id in UTF-8, first 16 bytes', () => {
    expect(attestationNonce('é').toString('hex')).toBe(
      createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest().subarray(0, 16).toString('hex'),
    );
  });
});

describe('baseline', () => {
  const values = genuine.tpm_attestation.pcr_values.sha256!;

  it('passes when every PCR it names matches', () => {
    const result = verify(genuine.tpm_attestation, { baseline: { sha256: { '0': values['0']!, '10': values['10']!.toUpperCase() } } });
    expect(result.verified).toBe(true);
    expect(result.checks.baseline).toBe('pass');
    expect(result.limitations.join(' ')).toMatch(/your baseline does not name were not judged/);
  });

  it('fails when one PCR differs', () => {
    const other = `${values['7']!.slice(0, -1)}${values['7']!.endsWith('0') ? '1' : '0'}`;
    const result = verify(genuine.tpm_attestation, { baseline: { sha256: { '0': values['0']!, '7': other } } });
    expect(result.verified).toBe(false);
    expect(result.checks.baseline).toBe('fail');
    expect(result.failure).toBe('baseline: PCR values do not match the baseline: sha256:7 differs');
  });

  it('fails when it names a PCR or a bank the quote does not cover', () => {
    expect(verify(genuine.tpm_attestation, { baseline: { sha256: { '11': values['0']! } } }).failure).toMatch(/sha256:11 is not quoted/);
    expect(verify(genuine.tpm_attestation, { baseline: { sha384: { '0': '00'.repeat(48) } } }).failure).toMatch(/sha384:0 is not quoted/);
  });

  it('is not judged when the reported values are not the quoted ones', () => {
    const block = vector(file, 'pcr-value-edited').tpm_attestation;
    const result = verify(block, { baseline: { sha256: block.pcr_values.sha256! } });
    expect(result.checks.pcr_digest).toBe('fail');
    expect(result.checks.baseline).toBe('skipped');
    expect(result.verified).toBe(false);
  });
});

describe('trustedAikKeys', () => {
  const aik = genuine.tpm_attestation.aik_pubkey_b64;
  const fingerprint = verify(genuine.tpm_attestation).aik!.fingerprint;

  it('accepts the AIK by fingerprint, in either case, or by its base64', () => {
    for (const keys of [[fingerprint], [fingerprint.toUpperCase().replace('SHA256', 'sha256')], ['sha256:' + '0'.repeat(64), aik]]) {
      const result = verify(genuine.tpm_attestation, { trustedAikKeys: keys });
      expect(result.checks.trusted_aik).toBe('pass');
      expect(result.verified).toBe(true);
    }
  });

  it('refuses any other AIK, even a genuine one', () => {
    const other = vector(file, 'genuine-rsa2048-rsassa');
    const result = verifyAttestation(other.tpm_attestation, { payloadId: other.payload_id, trustedAikKeys: [fingerprint, aik] });
    expect(result.checks.trusted_aik).toBe('fail');
    expect(result.checks.signature).toBe('pass');
    expect(result.verified).toBe(false);
    expect(result.failure).toMatch(/^trusted_aik: the AIK sha256:[0-9a-f]{64} is not one of trustedAikKeys$/);
  });

  it('an empty list trusts nothing', () => {
    expect(verify(genuine.tpm_attestation, { trustedAikKeys: [] }).checks.trusted_aik).toBe('fail');
  });
});
