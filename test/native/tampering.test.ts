// Every damaged package is refused the same way: one error class, one code, one
// message, whatever was damaged and however. A caller (or an attacker watching
// errors) must not learn which part of a package was wrong.
import { backends } from '../helpers/backends';
import { caught, codeOf } from '../helpers/outcome';
import { b64, FIELD_NAMES, manualOpen, unb64, withField, withFlippedByte, type FieldName } from '../helpers/sealed';
import { importPem, rsaPrivatePem, secretBytes } from '../helpers/secrets';
import { SecurityError } from '../../lib/errors';
import type { CryptoBackend, PrivateKeyHandle, SealedFields } from '../../lib/crypto';

// A realistic request plaintext (85 bytes) sealed to an RSA-4096 key, as the protocol uses.
const PLAINTEXT = JSON.stringify({ model: 'nomyo-test', messages: [{ role: 'user', content: 'tamper me' }] });

let pemA: string;
let pemB: string;
beforeAll(async () => {
  [pemA, pemB] = await Promise.all([rsaPrivatePem(4096), rsaPrivatePem(4096)]);
});

describe.each(backends)('%s backend refuses damaged packages uniformly', (_name, make) => {
  const backend: CryptoBackend = make();
  let keyA: PrivateKeyHandle;
  let keyB: PrivateKeyHandle;
  let fields: SealedFields;
  let reference: { message: string; code: string };

  beforeAll(async () => {
    keyA = await importPem(backend, pemA);
    keyB = await importPem(backend, pemB);
    const plaintext = backend.secretFromString(PLAINTEXT);
    fields = await backend.seal(plaintext, backend.importPublicKey(keyA.publicKeyPem()));
    plaintext.dispose();
    const error = await caught(() => backend.open({ ...fields, tag: b64(Buffer.alloc(16)) }, keyA));
    reference = { message: error.message, code: String(codeOf(error)) };
  });

  afterAll(() => {
    keyA.dispose();
    keyB.dispose();
  });

  /** Describes how an attempt went wrong, or null when it was refused the one right way. */
  async function verdict(damaged: SealedFields, key: PrivateKeyHandle = keyA): Promise<string | null> {
    try {
      const opened = await backend.open(damaged, key);
      opened.dispose();
      return 'accepted';
    } catch (error) {
      if (!(error instanceof SecurityError)) return `wrong class ${(error as Error).name}`;
      if (error.code !== 'NOMYO_DECRYPT_FAILED') return `wrong code ${error.code}`;
      if (error.message !== reference.message) return `other message "${error.message}"`;
      return null;
    }
  }

  /** Runs all attempts (a few at a time) and returns the ones refused wrongly. */
  async function wrongVerdicts(attempts: Array<[string, SealedFields, PrivateKeyHandle?]>): Promise<string[]> {
    const wrong: string[] = [];
    for (let i = 0; i < attempts.length; i += 16) {
      const batch = attempts.slice(i, i + 16);
      const results = await Promise.all(batch.map(([, damaged, key]) => verdict(damaged, key)));
      results.forEach((result, j) => {
        if (result !== null) wrong.push(`${batch[j]![0]}: ${result}`);
      });
    }
    return wrong;
  }

  it('opens the undamaged package (the baseline the other tests damage)', async () => {
    expect(reference.code).toBe('NOMYO_DECRYPT_FAILED');
    expect(unb64(fields.encrypted_aes_key)).toHaveLength(512);
    const opened = await backend.open(fields, keyA);
    expect(secretBytes(backend, opened).toString('utf8')).toBe(PLAINTEXT);
    opened.dispose();
    expect(manualOpen(fields, pemA).toString('utf8')).toBe(PLAINTEXT);
  });

  it('refuses with one message, the same on both backends, that names no part of the package', () => {
    expect(reference.message).toBe('the package could not be decrypted');
    expect(reference.message).not.toMatch(/tag|nonce|key|base64|padding|cipher|oaep|rsa/i);
  });

  it.each(FIELD_NAMES)('refuses every single flipped byte of %s', async (field: FieldName) => {
    // Every byte, including the 512 of the wrapped key (one RSA-4096 private operation each).
    const length = unb64(fields[field]).length;
    const attempts: Array<[string, SealedFields]> = [];
    for (let i = 0; i < length; i++) attempts.push([`${field}[${i}]`, withFlippedByte(fields, field, i)]);
    expect(attempts.length).toBe(length);
    expect(await wrongVerdicts(attempts)).toEqual([]);
  });

  it('refuses malformed fields with the same error', async () => {
    const attempts: Array<[string, SealedFields]> = [];
    for (const field of FIELD_NAMES) {
      const text = fields[field];
      const bytes = unb64(text);
      attempts.push(
        [`${field} truncated by one byte`, withField(fields, field, b64(bytes.subarray(0, bytes.length - 1)))],
        [`${field} with one byte appended`, withField(fields, field, b64(Buffer.concat([bytes, Buffer.from([0])])))],
        [`${field} missing its last base64 character`, withField(fields, field, text.slice(0, -1))],
        [`${field} missing its last 4 base64 characters`, withField(fields, field, text.slice(0, -4))],
        [`${field} empty`, withField(fields, field, '')],
        [`${field} not base64`, withField(fields, field, `!${text.slice(1)}`)],
        [`${field} with a line break`, withField(fields, field, `${text.slice(0, 8)}\n${text.slice(8)}`)],
        [`${field} with a space`, withField(fields, field, ` ${text}`)],
        [`${field} with extra padding`, withField(fields, field, `${text}==`)],
        [`${field} missing`, withField(fields, field, undefined)],
        [`${field} null`, withField(fields, field, null)],
        [`${field} a number`, withField(fields, field, 42)],
        [`${field} an array`, withField(fields, field, [text])],
        [`${field} with a non-ASCII character`, withField(fields, field, `${text.slice(0, -4)}ÄÄÄÄ`)],
      );
      if (text.endsWith('=')) attempts.push([`${field} without its padding`, withField(fields, field, text.replace(/=+$/, ''))]);
      const url = text.replace(/\+/g, '-').replace(/\//g, '_');
      if (url !== text) attempts.push([`${field} in the base64url alphabet`, withField(fields, field, url)]);
    }
    // The 512-byte wrapped key is all but certain to contain + or / (p < 1e-9 otherwise): assert it,
    // so the base64url case is never silently skipped.
    expect(/[+/]/.test(fields.encrypted_aes_key)).toBe(true);
    // The tag (16 bytes) always ends in "==": the missing-padding case always runs for it.
    expect(fields.tag.endsWith('==')).toBe(true);

    const tag = unb64(fields.tag);
    const nonce = unb64(fields.nonce);
    attempts.push(
      ['nonce of 8 bytes', withField(fields, 'nonce', b64(nonce.subarray(0, 8)))],
      ['nonce of 16 bytes', withField(fields, 'nonce', b64(Buffer.concat([nonce, Buffer.alloc(4)])))],
      ['tag truncated to 12 bytes (a valid GCM tag length elsewhere)', withField(fields, 'tag', b64(tag.subarray(0, 12)))],
      ['tag truncated to 4 bytes', withField(fields, 'tag', b64(tag.subarray(0, 4)))],
      ['tag of 17 bytes', withField(fields, 'tag', b64(Buffer.concat([tag, Buffer.alloc(1)])))],
      ['nonce and tag swapped', { ...fields, nonce: fields.tag, tag: fields.nonce }],
      ['ciphertext empty with the original tag', withField(fields, 'ciphertext', '')],
      ['all fields empty', { ciphertext: '', nonce: '', tag: '', encrypted_aes_key: '' }],
      ['no fields at all', {} as SealedFields],
    );
    expect(await wrongVerdicts(attempts)).toEqual([]);
  });

  it('refuses a package for another recipient, both ways round', async () => {
    const plaintext = backend.secretFromString(PLAINTEXT);
    const forB = await backend.seal(plaintext, backend.importPublicKey(keyB.publicKeyPem()));
    plaintext.dispose();
    const openedByB = await backend.open(forB, keyB);
    expect(secretBytes(backend, openedByB).toString('utf8')).toBe(PLAINTEXT);
    openedByB.dispose();
    expect(
      await wrongVerdicts([
        ['sealed to A, opened with B', fields, keyB],
        ['sealed to B, opened with A', forB, keyA],
        ['payload for A, key wrapped for B', { ...fields, encrypted_aes_key: forB.encrypted_aes_key }, keyA],
        ['payload for A, key wrapped for B, opened with B', { ...fields, encrypted_aes_key: forB.encrypted_aes_key }, keyB],
      ]),
    ).toEqual([]);
  });

  // Canonical base64 only: the 4 unused low bits before "==" in the tag must be zero.
  // The native decoder (libsodium) enforces it; the node-crypto fallback's regex does
  it('refuses non-canonical base64 (non-zero padding bits)', async () => {
    const text = fields.tag;
    expect(text.endsWith('==')).toBe(true);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = alphabet.indexOf(text[21]!);
    const altered = `${text.slice(0, 21)}${alphabet[last ^ 0x01]}==`;
    expect(altered).not.toBe(text);
    expect(Buffer.from(altered, 'base64').equals(unb64(text))).toBe(true); // same bytes, other text
    expect(await wrongVerdicts([['tag with non-zero padding bits', withField(fields, 'tag', altered)]])).toEqual([]);
  });
});
