// Encrypted PKCS#8 for the node:crypto fallback, with the same protection the
// native backend gives: PBES2, PBKDF2-HMAC-SHA256 (600,000 iterations) and
// AES-256-CBC. KeyObject.export() would use OpenSSL's default of 2,048.
import * as crypto from 'node:crypto';
import { promisify } from 'node:util';

export const PBKDF2_ITERATIONS = 600_000;

const pbkdf2 = promisify(crypto.pbkdf2);

// Object identifiers, DER-encoded (content bytes only).
const OID_PBES2 = Buffer.from('2a864886f70d01050d', 'hex'); // 1.2.840.113549.1.5.13
const OID_PBKDF2 = Buffer.from('2a864886f70d01050c', 'hex'); // 1.2.840.113549.1.5.12
const OID_HMAC_SHA256 = Buffer.from('2a864886f70d0209', 'hex'); // 1.2.840.113549.2.9
const OID_AES256_CBC = Buffer.from('60864801650304012a', 'hex'); // 2.16.840.1.101.3.4.1.42

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const oid = (bytes: Buffer): Buffer => tlv(0x06, bytes);
const octets = (bytes: Buffer): Buffer => tlv(0x04, bytes);
const NULL = Buffer.from([0x05, 0x00]);

function integer(value: number): Buffer {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

/** `-----BEGIN ENCRYPTED PRIVATE KEY-----` PEM of `key`, readable by OpenSSL and Python's cryptography. */
export async function encryptPkcs8(key: crypto.KeyObject, password: Buffer): Promise<Buffer> {
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(16);
  const derivedKey = await pbkdf2(password, salt, PBKDF2_ITERATIONS, 32, 'sha256');
  const plain = key.export({ type: 'pkcs8', format: 'der' });
  try {
    const cipher = crypto.createCipheriv('aes-256-cbc', derivedKey, iv);
    const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
    const algorithm = sequence(
      oid(OID_PBES2),
      sequence(
        sequence(oid(OID_PBKDF2), sequence(octets(salt), integer(PBKDF2_ITERATIONS), sequence(oid(OID_HMAC_SHA256), NULL))),
        sequence(oid(OID_AES256_CBC), octets(iv)),
      ),
    );
    const der = sequence(algorithm, octets(encrypted));
    const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
    return Buffer.from(`-----BEGIN ENCRYPTED PRIVATE KEY-----\n${body}\n-----END ENCRYPTED PRIVATE KEY-----\n`);
  } finally {
    plain.fill(0);
    derivedKey.fill(0);
  }
}
