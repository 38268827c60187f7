// sealPackage() writes the whole request body itself (natively: base64 slice by
// slice into one buffer). It must be byte-for-byte the body encodePackage()
// assembles from the same fields, and open like any other package, at every
// length around the slice and inline-seal boundaries.
import * as crypto from 'node:crypto';
import { decodePackage, encodePackage } from '../../lib/protocol/package';
import { backends } from '../helpers/backends';

const SLICE = 3 * 16 * 1024;
const INLINE_LIMIT = 64 * 1024;
const LENGTHS = [0, 1, 2, 3, 4, SLICE - 1, SLICE, SLICE + 1, INLINE_LIMIT, INLINE_LIMIT + 1, 5 * SLICE + 2];

describe.each(backends)('%s backend: sealPackage', (_name, make) => {
  const backend = make();
  let key: Awaited<ReturnType<typeof backend.generateKeyPair>>;
  let recipient: ReturnType<typeof backend.importPublicKey>;

  beforeAll(async () => {
    key = await backend.generateKeyPair(2048);
    recipient = backend.importPublicKey(key.publicKeyPem());
  });

  it.each(LENGTHS)('seals %i plaintext bytes into a body that decodes, re-encodes identically and opens', async (length) => {
    const bytes = crypto.randomBytes(length);
    const plaintext = backend.secretFromBytes(bytes);
    const body = await backend.sealPackage(plaintext, recipient);
    expect(Buffer.isBuffer(body)).toBe(true);
    const decoded = decodePackage(body);
    expect(body.toString('utf8')).toBe(encodePackage(decoded.fields));
    expect(Buffer.from(decoded.fields.ciphertext, 'base64')).toHaveLength(length);
    const opened = await backend.open(decoded.fields, key);
    const copy = new Uint8Array(length);
    backend.copySecretTo(opened, copy);
    expect(Buffer.from(copy).equals(bytes)).toBe(true);
    opened.dispose();
    plaintext.dispose();
  });

  it('uses a fresh AES key and nonce for every body', async () => {
    const plaintext = backend.secretFromString('same plaintext');
    const [a, b] = await Promise.all([backend.sealPackage(plaintext, recipient), backend.sealPackage(plaintext, recipient)]);
    const first = decodePackage(a!).fields;
    const second = decodePackage(b!).fields;
    expect(first.nonce).not.toBe(second.nonce);
    expect(first.encrypted_aes_key).not.toBe(second.encrypted_aes_key);
    expect(first.ciphertext).not.toBe(second.ciphertext);
    plaintext.dispose();
  });

  it('seals what the plaintext held when called, even if it is disposed meanwhile', async () => {
    const bytes = crypto.randomBytes(INLINE_LIMIT * 4);
    const plaintext = backend.secretFromBytes(bytes);
    const sealing = backend.sealPackage(plaintext, recipient);
    plaintext.dispose();
    const opened = await backend.open(decodePackage(await sealing).fields, key);
    const copy = new Uint8Array(bytes.length);
    backend.copySecretTo(opened, copy);
    expect(Buffer.from(copy).equals(bytes)).toBe(true);
    opened.dispose();
  });
});
