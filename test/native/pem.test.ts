// Private and public key PEM: what both backends write, what they read (their
// own output and the openssl CLI's, in every common format), and how they refuse.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { backends } from '../helpers/backends';
import { openssl } from '../helpers/commands';
import { caught, caughtSync, codeOf } from '../helpers/outcome';
import { exportPemText, importPem } from '../helpers/secrets';
import { makeTempDir, type TempDir } from '../helpers/tmp';
import { KeyError } from '../../lib/errors';
import type { CryptoBackend, PrivateKeyHandle } from '../../lib/crypto';

const PASSWORD = 'correct horse battery staple ✓ 7Qz';
const WRONG_PASSWORD = 'Tr0ub4dor&3-wrong-password';

/** The modulus of any RSA key or PEM, as node:crypto derives it (base64url, from JWK). */
function modulusOf(key: string | crypto.KeyObject): string {
  let object: crypto.KeyObject;
  if (typeof key !== 'string') object = key.type === 'private' ? crypto.createPublicKey(key) : key;
  else object = key.includes('PRIVATE KEY') ? crypto.createPublicKey(crypto.createPrivateKey(key)) : crypto.createPublicKey(key);
  const jwk = object.export({ format: 'jwk' });
  if (typeof jwk.n !== 'string') throw new Error('not an RSA key');
  return jwk.n;
}

/** Every line of a PEM longer than 8 characters (labels and base64 body). */
function pemFragments(pem: string): string[] {
  return pem.split('\n').map((line) => line.trim()).filter((line) => line.length > 8);
}

interface Fixtures {
  tmp: TempDir;
  /** openssl genpkey RSA-2048, PKCS#8 unencrypted. */
  plain: string;
  /** The same key, `openssl pkcs8 -topk8 -v2 aes-256-cbc`. */
  pkcs8Encrypted: string;
  /** The same key, `openssl rsa -traditional` (BEGIN RSA PRIVATE KEY). */
  traditional: string;
  /** The same key, `openssl rsa -traditional -aes256`. */
  traditionalEncrypted: string;
  /** SPKI of the same key, from `openssl pkey -pubout`. */
  publicPem: string;
  rsa1024: string;
  rsa1024Public: string;
  ec: string;
  ecPublic: string;
  ed25519: string;
  pkcs1Public: string;
}

let fx: Fixtures;

beforeAll(() => {
  const tmp = makeTempDir();
  const keyFile = tmp.file('rsa2048.pem');
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]);
  const read = (file: string): string => fs.readFileSync(file, 'utf8');
  const run = (args: string[]): string => openssl(args).toString('utf8');
  const rsa1024File = tmp.file('rsa1024.pem');
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', rsa1024File]);
  const ecFile = tmp.file('ec.pem');
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', ecFile]);
  fx = {
    tmp,
    plain: read(keyFile),
    pkcs8Encrypted: run(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', keyFile, '-passout', `pass:${PASSWORD}`]),
    traditional: run(['rsa', '-in', keyFile, '-traditional']),
    traditionalEncrypted: run(['rsa', '-in', keyFile, '-traditional', '-aes256', '-passout', `pass:${PASSWORD}`]),
    publicPem: run(['pkey', '-in', keyFile, '-pubout']),
    rsa1024: read(rsa1024File),
    rsa1024Public: run(['pkey', '-in', rsa1024File, '-pubout']),
    ec: read(ecFile),
    ecPublic: run(['pkey', '-in', ecFile, '-pubout']),
    ed25519: run(['genpkey', '-algorithm', 'ED25519']),
    pkcs1Public: run(['rsa', '-in', keyFile, '-RSAPublicKey_out']),
  };
  // The fixtures are what their names say.
  expect(fx.plain).toContain('-----BEGIN PRIVATE KEY-----');
  expect(fx.pkcs8Encrypted).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
  expect(fx.traditional).toContain('-----BEGIN RSA PRIVATE KEY-----');
  expect(fx.traditional).not.toContain('ENCRYPTED');
  expect(fx.traditionalEncrypted).toContain('-----BEGIN RSA PRIVATE KEY-----');
  expect(fx.traditionalEncrypted).toContain('Proc-Type: 4,ENCRYPTED');
  expect(fx.pkcs1Public).toContain('-----BEGIN RSA PUBLIC KEY-----');
});

afterAll(() => fx.tmp.remove());

describe.each(backends)('%s backend: private key PEM', (name, make) => {
  const backend: CryptoBackend = make();
  let key: PrivateKeyHandle;

  beforeAll(async () => {
    key = await backend.generateKeyPair(2048);
  });
  afterAll(() => key.dispose());

  async function keyError(pem: string, password?: string): Promise<KeyError> {
    const error = await caught(() => importPem(backend, pem, password));
    expect(error).toBeInstanceOf(KeyError);
    return error as KeyError;
  }

  it('round-trips an unencrypted PKCS#8 export', async () => {
    const pem = await exportPemText(backend, key);
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(pem.trimEnd().endsWith('-----END PRIVATE KEY-----')).toBe(true);
    const again = await importPem(backend, pem);
    expect(again.bits).toBe(2048);
    expect(again.publicKeyPem()).toBe(key.publicKeyPem());
    again.dispose();
    // openssl reads it as the same key.
    const file = fx.tmp.write(`${name}-plain.pem`, pem);
    expect(openssl(['pkey', '-in', file, '-pubout']).toString()).toBe(key.publicKeyPem());
  });

  it('round-trips a password-encrypted export, which openssl reads as PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC', async () => {
    const pem = await exportPemText(backend, key, PASSWORD);
    expect(pem.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----\n')).toBe(true);
    const again = await importPem(backend, pem, PASSWORD);
    expect(again.publicKeyPem()).toBe(key.publicKeyPem());
    again.dispose();

    const file = fx.tmp.write(`${name}-encrypted.pem`, pem);
    expect(openssl(['pkey', '-in', file, '-passin', `pass:${PASSWORD}`, '-pubout']).toString()).toBe(key.publicKeyPem());
    expect(() => openssl(['pkey', '-in', file, '-passin', `pass:${WRONG_PASSWORD}`, '-pubout'])).toThrow();
    const structure = openssl(['asn1parse', '-in', file]).toString();
    for (const oid of [':PBES2', ':PBKDF2', ':hmacWithSHA256', ':aes-256-cbc']) expect(structure).toContain(oid);
    if (name === 'native') {
      // native/keys/rsa_key.h promises 600000 PBKDF2 iterations (the INTEGER after the salt).
      const iterations = /prim: INTEGER\s+:([0-9A-F]+)/.exec(structure);
      expect(parseInt(iterations![1]!, 16)).toBe(600000);
    }
  });

  it('refuses a wrong password with NOMYO_KEY_BAD_PASSWORD, naming neither the password nor the PEM', async () => {
    const pem = await exportPemText(backend, key, PASSWORD);
    const error = await keyError(pem, WRONG_PASSWORD);
    expect(error.code).toBe('NOMYO_KEY_BAD_PASSWORD');
    const text = `${error.message} ${String(error.stack)}`;
    expect(text).not.toContain(WRONG_PASSWORD);
    expect(text).not.toContain(PASSWORD);
    for (const fragment of pemFragments(pem)) expect(text).not.toContain(fragment);
  });

  it('refuses an encrypted key without a password with NOMYO_KEY_PASSWORD_REQUIRED', async () => {
    const pem = await exportPemText(backend, key, PASSWORD);
    expect((await keyError(pem)).code).toBe('NOMYO_KEY_PASSWORD_REQUIRED');
    expect((await keyError(fx.pkcs8Encrypted)).code).toBe('NOMYO_KEY_PASSWORD_REQUIRED');
    expect((await keyError(fx.traditionalEncrypted)).code).toBe('NOMYO_KEY_PASSWORD_REQUIRED');
  });

  it.each([
    ['openssl genpkey PKCS#8', 'plain', undefined],
    ['openssl pkcs8 -topk8 -v2 aes-256-cbc', 'pkcs8Encrypted', PASSWORD],
    ['openssl rsa -traditional (BEGIN RSA PRIVATE KEY)', 'traditional', undefined],
    ['openssl rsa -traditional -aes256', 'traditionalEncrypted', PASSWORD],
  ] as const)('loads %s as the same key openssl sees', async (_what, fixture, password) => {
    const loaded = await importPem(backend, fx[fixture], password);
    expect(loaded.bits).toBe(2048);
    expect(loaded.publicKeyPem()).toBe(fx.publicPem);
    loaded.dispose();
  });

  it('refuses the openssl-encrypted formats under a wrong password with NOMYO_KEY_BAD_PASSWORD', async () => {
    for (const pem of [fx.pkcs8Encrypted, fx.traditionalEncrypted]) {
      const error = await keyError(pem, WRONG_PASSWORD);
      expect(error.code).toBe('NOMYO_KEY_BAD_PASSWORD');
      expect(error.message).not.toContain(WRONG_PASSWORD);
    }
  });

  it('refuses a 1024-bit RSA key with NOMYO_KEY_TOO_SMALL', async () => {
    expect((await keyError(fx.rsa1024)).code).toBe('NOMYO_KEY_TOO_SMALL');
  });

  it('refuses to generate a 1024-bit key with NOMYO_KEY_TOO_SMALL', async () => {
    const error = await caught(() => backend.generateKeyPair(1024));
    expect(error).toBeInstanceOf(KeyError);
    expect(codeOf(error)).toBe('NOMYO_KEY_TOO_SMALL');
  });

  it.each([
    ['an EC P-256 key', 'ec'],
    ['an Ed25519 key', 'ed25519'],
  ] as const)('refuses %s with NOMYO_KEY_UNSUPPORTED', async (_what, fixture) => {
    expect((await keyError(fx[fixture])).code).toBe('NOMYO_KEY_UNSUPPORTED');
  });

  it.each([
    ['garbage text', 'this is not a key at all'],
    ['an empty string', ''],
    ['random bytes', crypto.randomBytes(600).toString('latin1')],
    ['a public key', 'publicPem'],
    ['a PEM cut in half', 'half'],
    ['a PEM with a damaged body', 'damaged'],
  ])('refuses %s with NOMYO_KEY_INVALID, quoting none of it', async (_what, input) => {
    let pem = input;
    if (input === 'publicPem') pem = fx.publicPem;
    if (input === 'half') pem = fx.plain.slice(0, fx.plain.length / 2);
    if (input === 'damaged') {
      const lines = fx.plain.split('\n');
      lines[3] = lines[3]!.replace(/[A-Za-z]/g, '*');
      pem = lines.join('\n');
    }
    const error = await keyError(pem);
    expect(error.code).toBe('NOMYO_KEY_INVALID');
    for (const fragment of pemFragments(pem)) expect(error.message).not.toContain(fragment);
  });

  it('gives a public key PEM that is SPKI with the modulus node:crypto derives from the private key', async () => {
    const publicPem = key.publicKeyPem();
    expect(publicPem.startsWith('-----BEGIN PUBLIC KEY-----\n')).toBe(true);
    expect(publicPem.trimEnd().endsWith('-----END PUBLIC KEY-----')).toBe(true);
    const privatePem = await exportPemText(backend, key);
    expect(modulusOf(crypto.createPublicKey(publicPem))).toBe(modulusOf(privatePem));
    expect(crypto.createPublicKey(publicPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    // The key node:crypto made from the PEM also encrypts to this key.
    expect(backend.importPublicKey(publicPem).bits).toBe(2048);
  });
});

describe.each(backends)('%s backend: public key PEM import', (_name, make) => {
  const backend: CryptoBackend = make();

  function importError(pem: string): KeyError {
    const error = caughtSync(() => backend.importPublicKey(pem));
    expect(error).toBeInstanceOf(KeyError);
    return error as KeyError;
  }

  it('imports an openssl SPKI PEM with its size and the same modulus', () => {
    const imported = backend.importPublicKey(fx.publicPem);
    expect(imported.bits).toBe(2048);
    expect(imported.pem.startsWith('-----BEGIN PUBLIC KEY-----')).toBe(true);
    expect(modulusOf(crypto.createPublicKey(imported.pem))).toBe(modulusOf(fx.plain));
  });

  it('refuses a 1024-bit public key with NOMYO_KEY_TOO_SMALL', () => {
    expect(importError(fx.rsa1024Public).code).toBe('NOMYO_KEY_TOO_SMALL');
  });

  it('refuses an EC public key with NOMYO_KEY_UNSUPPORTED', () => {
    expect(importError(fx.ecPublic).code).toBe('NOMYO_KEY_UNSUPPORTED');
  });

  it.each([
    ['garbage', 'not a pem'],
    ['an empty string', ''],
    ['base64 DER without PEM armour', 'der'],
    ['a private key', 'private'],
  ])('refuses %s with NOMYO_KEY_INVALID', (_what, input) => {
    let pem = input;
    if (input === 'der') pem = crypto.createPublicKey(fx.publicPem).export({ type: 'spki', format: 'der' }).toString('base64');
    if (input === 'private') pem = fx.plain;
    const error = importError(pem);
    expect(error.code).toBe('NOMYO_KEY_INVALID');
    if (input === 'private') for (const fragment of pemFragments(fx.plain)) expect(error.message).not.toContain(fragment);
  });

  // The protocol's keys are SPKI ("BEGIN PUBLIC KEY"), and the native error message says
  // so, but OpenSSL 3's PEM_read_bio_PUBKEY also decodes PKCS#1 "BEGIN RSA PUBLIC KEY":
  it('refuses a PKCS#1 RSA PUBLIC KEY (the protocol sends SPKI) with NOMYO_KEY_INVALID', () => {
    expect(importError(fx.pkcs1Public).code).toBe('NOMYO_KEY_INVALID');
  });
});
