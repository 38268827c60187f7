// RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) + AES-256-GCM, cross-checked in
// both directions against node:crypto written out by hand and against the
// openssl CLI, so that neither backend can only agree with itself.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { backends } from '../helpers/backends';
import { openssl } from '../helpers/commands';
import { caught, codeOf } from '../helpers/outcome';
import { b64, gcmDecrypt, manualOpen, manualSeal, OAEP_SHA256, sealWithWrappedKey, unb64 } from '../helpers/sealed';
import { exportPemText, secretBytes } from '../helpers/secrets';
import { makeTempDir, type TempDir } from '../helpers/tmp';
import { SecurityError } from '../../lib/errors';
import type { PrivateKeyHandle } from '../../lib/crypto';

const message = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'grüße 😀 "quoted" \\ back' }] });

describe.each(backends)('%s backend: RSA-OAEP-SHA256 hybrid interop', (_name, make) => {
  const backend = make();
  let key: PrivateKeyHandle;
  let privatePem: string;
  let publicPem: string;
  let tmp: TempDir;
  let publicFile: string;
  let privateFile: string;

  beforeAll(async () => {
    key = await backend.generateKeyPair(2048);
    privatePem = await exportPemText(backend, key);
    publicPem = key.publicKeyPem();
    tmp = makeTempDir();
    publicFile = tmp.write('pub.pem', publicPem);
    privateFile = tmp.write('priv.pem', privatePem);
  });

  afterAll(() => {
    key.dispose();
    tmp.remove();
  });

  async function openToBytes(fields: Parameters<typeof backend.open>[0]): Promise<Buffer> {
    const secret = await backend.open(fields, key);
    try {
      return secretBytes(backend, secret);
    } finally {
      secret.dispose();
    }
  }

  // RFC 8017 7.1.2 step 1b. About one wrapped key in 256 starts with a zero byte;
  // without it, OpenSSL reads the same number and the package would open.
  it('refuses a wrapped key shorter than the modulus, even one that spells the same number', async () => {
    const aesKey = crypto.randomBytes(32);
    let wrapped = crypto.publicEncrypt({ key: publicPem, ...OAEP_SHA256 }, aesKey);
    for (let tries = 0; wrapped[0] !== 0 && tries < 20_000; tries++) {
      wrapped = crypto.publicEncrypt({ key: publicPem, ...OAEP_SHA256 }, aesKey);
    }
    expect(wrapped[0]).toBe(0);
    expect(crypto.privateDecrypt({ key: privatePem, ...OAEP_SHA256 }, wrapped.subarray(1))).toEqual(aesKey);
    const intact = sealWithWrappedKey(Buffer.from(message), aesKey, wrapped);
    expect((await openToBytes(intact)).toString('utf8')).toBe(message);
    const cut = { ...intact, encrypted_aes_key: b64(wrapped.subarray(1)) };
    expect(codeOf(await caught(() => openToBytes(cut)))).toBe('NOMYO_DECRYPT_FAILED');
  });

  it('seals a package that node:crypto opens by hand', async () => {
    const plaintext = backend.secretFromString(message);
    const fields = await backend.seal(plaintext, backend.importPublicKey(publicPem));
    plaintext.dispose();
    // Wire shapes: canonical base64, 12-byte nonce, 16-byte tag, modulus-sized key.
    expect(unb64(fields.nonce)).toHaveLength(12);
    expect(unb64(fields.tag)).toHaveLength(16);
    expect(unb64(fields.encrypted_aes_key)).toHaveLength(256);
    expect(unb64(fields.ciphertext)).toHaveLength(Buffer.byteLength(message));
    expect(manualOpen(fields, privatePem).toString('utf8')).toBe(message);
  });

  it('seals with a fresh AES key and nonce every time', async () => {
    const plaintext = backend.secretFromString(message);
    const recipient = backend.importPublicKey(publicPem);
    const a = await backend.seal(plaintext, recipient);
    const b = await backend.seal(plaintext, recipient);
    plaintext.dispose();
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    const keyA = crypto.privateDecrypt({ key: privatePem, ...OAEP_SHA256 }, unb64(a.encrypted_aes_key));
    const keyB = crypto.privateDecrypt({ key: privatePem, ...OAEP_SHA256 }, unb64(b.encrypted_aes_key));
    expect(keyA.equals(keyB)).toBe(false);
  });

  it('opens a package node:crypto built by hand', async () => {
    const fields = manualSeal(Buffer.from(message), publicPem);
    expect((await openToBytes(fields)).toString('utf8')).toBe(message);
  });

  it('opens a package with an empty plaintext built by hand', async () => {
    const fields = manualSeal(Buffer.alloc(0), publicPem);
    expect(await openToBytes(fields)).toHaveLength(0);
  });

  it('opens a package whose AES key the openssl CLI wrapped', async () => {
    const aesKey = crypto.randomBytes(32);
    const keyFile = tmp.write('aes.bin', aesKey);
    const wrapped = openssl([
      'pkeyutl', '-encrypt', '-pubin', '-inkey', publicFile, '-in', keyFile,
      '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256',
    ]);
    fs.rmSync(keyFile);
    expect(wrapped).toHaveLength(256);
    const binary = crypto.randomBytes(300);
    const fields = sealWithWrappedKey(binary, aesKey, wrapped);
    expect((await openToBytes(fields)).equals(binary)).toBe(true);
  });

  it('wraps an AES key the openssl CLI unwraps, and that key decrypts the payload', async () => {
    const plaintext = backend.secretFromString(message);
    const fields = await backend.seal(plaintext, backend.importPublicKey(publicPem));
    plaintext.dispose();
    const wrappedFile = tmp.write('wrapped.bin', unb64(fields.encrypted_aes_key));
    const aesKey = openssl([
      'pkeyutl', '-decrypt', '-inkey', privateFile, '-in', wrappedFile,
      '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256',
    ]);
    expect(aesKey).toHaveLength(32);
    const opened = gcmDecrypt(aesKey, unb64(fields.nonce), unb64(fields.ciphertext), unb64(fields.tag));
    expect(opened.toString('utf8')).toBe(message);
  });

  // The parameters are pinned: a key wrapped any other way must not open.
  it.each([
    ['OAEP with SHA-1 (node:crypto default)', (aes: Buffer) => crypto.publicEncrypt({ key: publicPem, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING }, aes)],
    ['OAEP-SHA256 with a label', (aes: Buffer) => crypto.publicEncrypt({ key: publicPem, ...OAEP_SHA256, oaepLabel: Buffer.from('label') }, aes)],
    ['OAEP-SHA256 with MGF1-SHA1 (openssl)', (aes: Buffer) => {
      const keyFile = tmp.write('aes-mgf1.bin', aes);
      return openssl([
        'pkeyutl', '-encrypt', '-pubin', '-inkey', publicFile, '-in', keyFile,
        '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha1',
      ]);
    }],
    ['PKCS#1 v1.5', (aes: Buffer) => crypto.publicEncrypt({ key: publicPem, padding: crypto.constants.RSA_PKCS1_PADDING }, aes)],
    ['OAEP-SHA256 of a 16-byte key', (aes: Buffer) => crypto.publicEncrypt({ key: publicPem, ...OAEP_SHA256 }, aes.subarray(0, 16))],
  ])('refuses an AES key wrapped with %s', async (_what, wrap) => {
    const aesKey = crypto.randomBytes(32);
    const fields = sealWithWrappedKey(Buffer.from(message), aesKey, wrap(aesKey));
    // The reference implementation refuses it too (or unwraps something else).
    expect(() => manualOpen(fields, privatePem)).toThrow();
    const error = await caught(() => backend.open(fields, key));
    expect(error).toBeInstanceOf(SecurityError);
    expect(codeOf(error)).toBe('NOMYO_DECRYPT_FAILED');
  });

  it('seals to a key made by node:crypto, which opens it by hand', async () => {
    const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const recipient = backend.importPublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const plaintext = backend.secretFromString(message);
    const fields = await backend.seal(plaintext, recipient);
    plaintext.dispose();
    expect(manualOpen(fields, pair.privateKey).toString('utf8')).toBe(message);
    expect(b64(unb64(fields.ciphertext))).toBe(fields.ciphertext);
  });
});
