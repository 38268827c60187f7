// The protocol's hybrid scheme written out by hand with node:crypto, as an
// independent reference for the backends, and tools to damage a package.
import * as crypto from 'node:crypto';
import type { SealedFields } from '../../lib/crypto';

export const OAEP_SHA256 = { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Decodes standard base64, insisting the text is canonical (a typo in a test must not pass). */
export function unb64(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw new Error(`not canonical base64: ${text.slice(0, 40)}`);
  return bytes;
}

export function gcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): { ciphertext: Buffer; tag: Buffer } {
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

export function gcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Buffer {
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/** Builds the encrypted fields of a package from an already wrapped AES key. */
export function sealWithWrappedKey(plaintext: Uint8Array, aesKey: Uint8Array, wrappedKey: Uint8Array, nonce = crypto.randomBytes(12)): SealedFields {
  const { ciphertext, tag } = gcmEncrypt(aesKey, nonce, plaintext);
  return { ciphertext: b64(ciphertext), nonce: b64(nonce), tag: b64(tag), encrypted_aes_key: b64(wrappedKey) };
}

/** The whole scheme by hand: a fresh AES key and nonce, the key wrapped with RSA-OAEP-SHA256. */
export function manualSeal(plaintext: Uint8Array, recipientPem: string | crypto.KeyObject): SealedFields {
  const aesKey = crypto.randomBytes(32);
  const wrapped = crypto.publicEncrypt({ key: recipientPem, ...OAEP_SHA256 }, aesKey);
  return sealWithWrappedKey(plaintext, aesKey, wrapped);
}

/** The whole scheme by hand, in reverse. */
export function manualOpen(fields: SealedFields, privatePem: string | crypto.KeyObject): Buffer {
  const aesKey = crypto.privateDecrypt({ key: privatePem, ...OAEP_SHA256 }, unb64(fields.encrypted_aes_key));
  if (aesKey.length !== 32) throw new Error(`unwrapped key is ${aesKey.length} bytes`);
  return gcmDecrypt(aesKey, unb64(fields.nonce), unb64(fields.ciphertext), unb64(fields.tag));
}

export type FieldName = keyof SealedFields;
export const FIELD_NAMES: FieldName[] = ['ciphertext', 'tag', 'nonce', 'encrypted_aes_key'];

/** A copy of `fields` whose `name` decodes to the same bytes with byte `index` inverted. */
export function withFlippedByte(fields: SealedFields, name: FieldName, index: number): SealedFields {
  const bytes = unb64(fields[name]);
  if (index < 0 || index >= bytes.length) throw new Error(`no byte ${index} in ${name}`);
  bytes[index] = bytes[index]! ^ 0xff;
  return { ...fields, [name]: b64(bytes) };
}

/** A copy of `fields` with `name` replaced by anything, including non-strings. */
export function withField(fields: SealedFields, name: FieldName, value: unknown): SealedFields {
  return { ...fields, [name]: value } as unknown as SealedFields;
}
