// AES-256-GCM known answers (96-bit IV, no AAD, 128-bit tag) through the exact
// GCM code Seal and Open run (the test-hooks entry points), and through open()
// of both backends. Every vector is first checked against node:crypto in the
// same test, so a mistyped vector fails instead of passing silently.
import * as crypto from 'node:crypto';
import { backends, testHooksBinding } from '../helpers/backends';
import { caught, caughtSync, codeOf } from '../helpers/outcome';
import { gcmDecrypt, gcmEncrypt, OAEP_SHA256, b64 } from '../helpers/sealed';
import { importPem, rsaPrivatePem, secretBytes } from '../helpers/secrets';
import { SecurityError } from '../../lib/errors';

interface Vector {
  name: string;
  key: string;
  iv: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
}

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 13-15
// (256-bit keys, no AAD), and two from NIST CAVP gcmEncryptExtIV256 (IV 96, AAD 0, tag 128).
const vectors: Vector[] = [
  {
    name: 'GCM spec test case 13 (empty plaintext, zero key)',
    key: '0000000000000000000000000000000000000000000000000000000000000000',
    iv: '000000000000000000000000',
    plaintext: '',
    ciphertext: '',
    tag: '530f8afbc74536b9a963b4f1c4cb738b',
  },
  {
    name: 'GCM spec test case 14 (one zero block, zero key)',
    key: '0000000000000000000000000000000000000000000000000000000000000000',
    iv: '000000000000000000000000',
    plaintext: '00000000000000000000000000000000',
    ciphertext: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'GCM spec test case 15 (four blocks)',
    key: 'feffe9928665731c6d6a8f9467308308 feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    plaintext:
      'd9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72 1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b391aafd255',
    ciphertext:
      '522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa 8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662898015ad',
    tag: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    name: 'NIST CAVP gcmEncryptExtIV256, PT 0 bits, count 0',
    key: 'b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4',
    iv: '516c33929df5a3284ff463d7',
    plaintext: '',
    ciphertext: '',
    tag: 'bdc1ac884d332457a1d2664f168c76f0',
  },
  {
    name: 'NIST CAVP gcmEncryptExtIV256, PT 128 bits, count 0',
    key: '31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22',
    iv: '0d18e06c7c725ac9e362e1ce',
    plaintext: '2db5168e932556f8089a0622981d017d',
    ciphertext: 'fa4362189661d163fcd6a56d8bf0405a',
    tag: 'd636ac1bbedd5cc3ee727dc2ab4a9489',
  },
];

function referenceCheck(v: Vector): void {
  const ours = gcmEncrypt(hex(v.key), hex(v.iv), hex(v.plaintext));
  expect(ours.ciphertext.toString('hex')).toBe(hex(v.ciphertext).toString('hex'));
  expect(ours.tag.toString('hex')).toBe(hex(v.tag).toString('hex'));
  expect(gcmDecrypt(hex(v.key), hex(v.iv), hex(v.ciphertext), hex(v.tag)).toString('hex')).toBe(hex(v.plaintext).toString('hex'));
}

describe('AES-256-GCM known answers through the native GCM code (test hooks)', () => {
  const binding = testHooksBinding();
  const { testing, SecureBuffer } = binding;

  it.each(vectors)('encrypts and decrypts $name', (v) => {
    referenceCheck(v);
    const out = testing.gcmEncrypt(hex(v.key), hex(v.iv), hex(v.plaintext));
    expect(Buffer.from(out.ciphertext).toString('hex')).toBe(hex(v.ciphertext).toString('hex'));
    expect(Buffer.from(out.tag).toString('hex')).toBe(hex(v.tag).toString('hex'));

    const plaintext = testing.gcmDecrypt(hex(v.key), hex(v.iv), hex(v.ciphertext), hex(v.tag));
    const expected = SecureBuffer.fromBytes(hex(v.plaintext));
    const other = SecureBuffer.fromBytes(Buffer.concat([hex(v.plaintext), Buffer.from([0])]));
    try {
      expect(plaintext.byteLength).toBe(hex(v.plaintext).length);
      expect(plaintext.equals(expected)).toBe(true);
      expect(plaintext.equals(other)).toBe(false);
    } finally {
      plaintext.dispose();
      expected.dispose();
      other.dispose();
    }
  });

  it.each(vectors)('rejects every damaged tag byte, a damaged ciphertext, nonce or key: $name', (v) => {
    referenceCheck(v);
    const key = hex(v.key);
    const iv = hex(v.iv);
    const ciphertext = hex(v.ciphertext);
    const tag = hex(v.tag);
    const attempts: Array<[string, () => unknown]> = [];
    for (let i = 0; i < tag.length; i++) {
      const bad = Buffer.from(tag);
      bad[i] = bad[i]! ^ 0x01;
      attempts.push([`tag byte ${i}`, () => testing.gcmDecrypt(key, iv, ciphertext, bad)]);
    }
    if (ciphertext.length > 0) {
      const bad = Buffer.from(ciphertext);
      bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x80;
      attempts.push(['last ciphertext byte', () => testing.gcmDecrypt(key, iv, bad, tag)]);
      attempts.push(['ciphertext one byte short', () => testing.gcmDecrypt(key, iv, ciphertext.subarray(1), tag)]);
    }
    attempts.push(['ciphertext with an extra byte', () => testing.gcmDecrypt(key, iv, Buffer.concat([ciphertext, Buffer.from([0])]), tag)]);
    const badIv = Buffer.from(iv);
    badIv[0] = badIv[0]! ^ 0x01;
    attempts.push(['nonce byte 0', () => testing.gcmDecrypt(key, badIv, ciphertext, tag)]);
    const badKey = Buffer.from(key);
    badKey[31] = badKey[31]! ^ 0x01;
    attempts.push(['key byte 31', () => testing.gcmDecrypt(badKey, iv, ciphertext, tag)]);

    const wrong = attempts
      .map(([what, attempt]) => {
        try {
          const result = attempt() as { dispose?: () => void };
          result.dispose?.();
          return `${what}: accepted`;
        } catch (error) {
          return codeOf(error) === 'NOMYO_DECRYPT_FAILED' ? null : `${what}: ${String(codeOf(error))}`;
        }
      })
      .filter((line) => line !== null);
    expect(wrong).toEqual([]);
  });

  it('refuses a key that is not 32 bytes, both ways', () => {
    const iv = Buffer.alloc(12);
    expect(codeOf(caughtSync(() => testing.gcmEncrypt(Buffer.alloc(16), iv, Buffer.alloc(16))))).toBe('NOMYO_ENCRYPT_FAILED');
    expect(codeOf(caughtSync(() => testing.gcmDecrypt(Buffer.alloc(16), iv, Buffer.alloc(16), Buffer.alloc(16))))).toBe(
      'NOMYO_DECRYPT_FAILED',
    );
  });
});

describe.each(backends)('%s backend opens packages built from the GCM known answers', (_name, make) => {
  const backend = make();
  let pem: string;
  beforeAll(async () => {
    pem = await rsaPrivatePem(2048);
  });

  it.each(vectors)('$name', async (v) => {
    referenceCheck(v);
    const key = await importPem(backend, pem);
    const wrapped = crypto.publicEncrypt({ key: crypto.createPublicKey(pem), ...OAEP_SHA256 }, hex(v.key));
    const fields = { ciphertext: b64(hex(v.ciphertext)), nonce: b64(hex(v.iv)), tag: b64(hex(v.tag)), encrypted_aes_key: b64(wrapped) };
    const plaintext = await backend.open(fields, key);
    expect(secretBytes(backend, plaintext).toString('hex')).toBe(hex(v.plaintext).toString('hex'));
    plaintext.dispose();

    const badTag = hex(v.tag);
    badTag[15] = badTag[15]! ^ 0x01;
    const error = await caught(() => backend.open({ ...fields, tag: b64(badTag) }, key));
    expect(error).toBeInstanceOf(SecurityError);
    expect(codeOf(error)).toBe('NOMYO_DECRYPT_FAILED');
    key.dispose();
  });
});
