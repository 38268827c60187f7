// The fallback when the addon cannot load: the same protocol through node:crypto.
// Secrets are plain Buffers, zero-filled on dispose (best effort: V8 and OpenSSL
// may hold copies), never locked, never excluded from dumps. It says so.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { webcrypto } from 'node:crypto';
import { InvalidRequestError, NomyoError } from '../errors';
import type {
  CryptoBackend,
  JsonPath,
  JsonType,
  MemoryFacts,
  PrivateKeyHandle,
  PublicKeyHandle,
  SealedFields,
  Secret,
} from './backend';
import { toNomyoError } from './error-mapping';
import { encryptPkcs8 } from './pkcs8-pbes2';
import { decodePackage, encodePackage } from '../protocol/package';

const AES_KEY_BYTES = 32;
const GCM_NONCE_BYTES = 12;
const GCM_TAG_BYTES = 16;
const MIN_RSA_BITS = 2048;
// Linear, no nested quantifier: a backtracking pattern overflows the stack on megabytes.
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

function codedError(code: string, message: string): Error {
  return toNomyoError(Object.assign(new Error(message), { code }));
}

class BufferSecret implements Secret {
  #bytes: Buffer | null;
  /**
   * The document parsed once, for the path lookups of a SecureResponse: each
   * JSON.parse would leave another copy of the plaintext in the JS heap.
   */
  parsed: { value: unknown } | undefined;
  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }
  get bytes(): Buffer {
    if (!this.#bytes) throw new NomyoError('the secure buffer was disposed', 'NOMYO_DISPOSED');
    return this.#bytes;
  }
  get byteLength(): number {
    return this.#bytes?.length ?? 0;
  }
  get locked(): boolean {
    return false;
  }
  get lockedBytes(): number {
    return 0;
  }
  get dumpExcluded(): boolean {
    return false;
  }
  get disposed(): boolean {
    return this.#bytes === null;
  }
  dispose(): void {
    this.#bytes?.fill(0);
    this.#bytes = null;
    this.parsed = undefined;
  }
}

function valueAt(root: unknown, path: JsonPath): unknown {
  let value = root;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(value) || step >= value.length) return undefined;
      value = value[step] as unknown;
    } else {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, step)) {
        return undefined;
      }
      value = (value as Record<string, unknown>)[step];
    }
  }
  return value;
}

function jsonTypeOf(value: unknown): JsonType | undefined {
  if (value === undefined) return undefined;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  return type === 'object' || type === 'string' || type === 'number' || type === 'boolean' ? type : undefined;
}

function bytesOf(secret: Secret): Buffer {
  if (!(secret instanceof BufferSecret)) throw new NomyoError('the secret belongs to another backend');
  return secret.bytes;
}

const RSA_OAEP = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;

// WebCrypto runs RSA and AES on the libuv threadpool, where the KeyObject
// one-shot functions would block the event loop.
async function toOaepKey(key: crypto.KeyObject): Promise<webcrypto.CryptoKey> {
  if (key.type === 'public') {
    return crypto.subtle.importKey('spki', key.export({ type: 'spki', format: 'der' }), RSA_OAEP, false, ['encrypt']);
  }
  const der = key.export({ type: 'pkcs8', format: 'der' });
  try {
    return await crypto.subtle.importKey('pkcs8', der, RSA_OAEP, false, ['decrypt']);
  } finally {
    der.fill(0);
  }
}

class KeyObjectPrivateKey implements PrivateKeyHandle {
  #key: crypto.KeyObject | null;
  #oaepKey: Promise<webcrypto.CryptoKey> | undefined;
  constructor(key: crypto.KeyObject) {
    this.#key = key;
  }
  get oaepKey(): Promise<webcrypto.CryptoKey> {
    this.#oaepKey ??= toOaepKey(this.key);
    return this.#oaepKey;
  }
  get key(): crypto.KeyObject {
    if (!this.#key) throw new NomyoError('the private key was disposed', 'NOMYO_DISPOSED');
    return this.#key;
  }
  get bits(): number {
    return this.key.asymmetricKeyDetails?.modulusLength ?? 0;
  }
  get disposed(): boolean {
    return this.#key === null;
  }
  publicKeyPem(): string {
    return crypto.createPublicKey(this.key).export({ type: 'spki', format: 'pem' }).toString();
  }
  async exportPem(password?: Secret): Promise<Secret> {
    if (password) return new BufferSecret(await encryptPkcs8(this.key, bytesOf(password)));
    return new BufferSecret(Buffer.from(this.key.export({ type: 'pkcs8', format: 'pem' })));
  }
  dispose(): void {
    this.#key = null;
    this.#oaepKey = undefined;
  }
}

class KeyObjectPublicKey implements PublicKeyHandle {
  readonly pem: string;
  #oaepKey: Promise<webcrypto.CryptoKey> | undefined;
  constructor(readonly key: crypto.KeyObject) {
    this.pem = key.export({ type: 'spki', format: 'pem' }).toString();
  }
  get oaepKey(): Promise<webcrypto.CryptoKey> {
    this.#oaepKey ??= toOaepKey(this.key);
    return this.#oaepKey;
  }
  get bits(): number {
    return this.key.asymmetricKeyDetails?.modulusLength ?? 0;
  }
}

function checkUsableRsa(key: crypto.KeyObject): void {
  if (key.asymmetricKeyType !== 'rsa') throw codedError('NOMYO_KEY_UNSUPPORTED', 'only RSA keys are supported');
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw codedError('NOMYO_KEY_TOO_SMALL', 'RSA keys under 2048 bits are refused');
  }
}

function bigintOf(base64url: string | undefined): bigint {
  if (!base64url) throw codedError('NOMYO_KEY_INVALID', 'the private key is damaged: its numbers do not match');
  return BigInt(`0x${Buffer.from(base64url, 'base64url').toString('hex') || '0'}`);
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * A private key whose numbers do not belong together (a damaged file, a
 * CBC-garbled block decrypted with the right password) parses all the same:
 * check n = pq, ed = 1 mod lambda(n) and the CRT values, as the addon does.
 */
function checkPrivateConsistency(key: crypto.KeyObject): void {
  const jwk = key.export({ format: 'jwk' });
  const [n, e, d, p, q, dp, dq, qi] = [jwk.n, jwk.e, jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi].map(bigintOf) as [
    bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint,
  ];
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const consistent =
    p * q === n && (e * d) % lambda === 1n && d % (p - 1n) === dp && d % (q - 1n) === dq && (qi * q) % p === 1n;
  if (!consistent) throw codedError('NOMYO_KEY_INVALID', 'the private key is damaged: its numbers do not match');
}

function decodeField(value: unknown, expectedLength?: number): Buffer {
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64_CHARS.test(value)) throw new Error('bad field');
  const bytes = Buffer.from(value, 'base64');
  // Canonical only: non-zero padding bits or misplaced '=' do not survive the round trip.
  if (bytes.toString('base64') !== value) throw new Error('bad field');
  if (expectedLength !== undefined && bytes.length !== expectedLength) throw new Error('bad field');
  return bytes;
}

export function createNodeCryptoBackend(fallbackReason: string): CryptoBackend {
  const seal = async (plaintext: Secret, recipient: PublicKeyHandle): Promise<SealedFields> => {
    if (!(recipient instanceof KeyObjectPublicKey)) throw new NomyoError('the key belongs to another backend');
    // A copy taken before any await: a dispose() meanwhile must not change what is sealed.
    const plaintextBytes = Buffer.from(bytesOf(plaintext));
    const aesKey = crypto.randomBytes(AES_KEY_BYTES);
    try {
      const nonce = crypto.randomBytes(GCM_NONCE_BYTES);
      const gcmKey = await crypto.subtle.importKey('raw', aesKey, 'AES-GCM', false, ['encrypt']);
      const sealed = Buffer.from(
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, tagLength: 128 }, gcmKey, plaintextBytes),
      );
      const wrapped = Buffer.from(await crypto.subtle.encrypt(RSA_OAEP, await recipient.oaepKey, aesKey));
      return {
        ciphertext: sealed.subarray(0, sealed.length - GCM_TAG_BYTES).toString('base64'),
        nonce: nonce.toString('base64'),
        tag: sealed.subarray(sealed.length - GCM_TAG_BYTES).toString('base64'),
        encrypted_aes_key: wrapped.toString('base64'),
      };
    } catch {
      throw codedError('NOMYO_ENCRYPT_FAILED', 'encryption failed');
    } finally {
      aesKey.fill(0);
      plaintextBytes.fill(0);
    }
  };
  const parseJson = (secret: Secret): unknown => {
    const bytes = bytesOf(secret); // a disposed secret is NOMYO_DISPOSED, not invalid JSON
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      // V8's message quotes the text it failed on: never pass it on.
      throw new NomyoError('invalid JSON', 'NOMYO_JSON_INVALID');
    }
  };
  const tryValueAt = (secret: Secret, path: JsonPath): unknown => {
    bytesOf(secret); // a disposed secret is NOMYO_DISPOSED, not a missing value
    const buffered = secret as BufferSecret;
    if (buffered.parsed === undefined) {
      try {
        buffered.parsed = { value: parseJson(secret) };
      } catch {
        buffered.parsed = { value: undefined };
      }
    }
    return valueAt(buffered.parsed.value, path);
  };
  const open = async (fields: SealedFields, key: PrivateKeyHandle): Promise<Secret> => {
    if (!(key instanceof KeyObjectPrivateKey)) throw new NomyoError('the key belongs to another backend');
    const oaepKey = key.oaepKey; // a disposed key is NOMYO_DISPOSED, not a failed decryption
    let aesKey: Buffer | undefined;
    try {
      const ciphertext = decodeField(fields.ciphertext);
      const nonce = decodeField(fields.nonce, GCM_NONCE_BYTES);
      const tag = decodeField(fields.tag, GCM_TAG_BYTES);
      // RFC 8017 7.1.2: exactly as long as the modulus (WebCrypto, like OpenSSL, also takes a shorter one).
      const wrapped = decodeField(fields.encrypted_aes_key, Math.ceil(key.bits / 8));
      aesKey = Buffer.from(await crypto.subtle.decrypt(RSA_OAEP, await oaepKey, wrapped));
      if (aesKey.length !== AES_KEY_BYTES) throw new Error('bad key');
      const gcmKey = await crypto.subtle.importKey('raw', aesKey, 'AES-GCM', false, ['decrypt']);
      // WebCrypto verifies the tag before it returns any plaintext.
      const plaintext = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonce, tagLength: 128 },
        gcmKey,
        Buffer.concat([ciphertext, tag]),
      );
      return new BufferSecret(Buffer.from(plaintext));
    } catch {
      throw codedError('NOMYO_DECRYPT_FAILED', 'decryption failed');
    } finally {
      aesKey?.fill(0);
    }
  };
  return {
    kind: 'node-crypto',
    secretFromString: (text) => new BufferSecret(Buffer.from(text, 'utf8')),
    secretFromBytes: (bytes) => new BufferSecret(Buffer.from(bytes)),
    serializeJson: (value, limit) => {
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch (cause) {
        throw new InvalidRequestError('the value cannot be serialized to JSON', undefined, undefined, 'NOMYO_NOT_SERIALIZABLE', {
          cause,
        });
      }
      if (json === undefined) throw codedError('NOMYO_NOT_SERIALIZABLE', 'the value has no JSON representation');
      const bytes = Buffer.from(json, 'utf8');
      if (bytes.length > limit) {
        bytes.fill(0);
        throw codedError('NOMYO_TOO_LARGE', 'the serialized request exceeds the size limit');
      }
      return new BufferSecret(bytes);
    },
    parseJson,
    consumeJson: (secret) => {
      try {
        return parseJson(secret);
      } finally {
        secret.dispose();
      }
    },
    parseJsonAt: (secret, path) => tryValueAt(secret, path),
    jsonTypeAt: (secret, path) => jsonTypeOf(tryValueAt(secret, path)),
    extractString: (secret, path) => {
      const value = tryValueAt(secret, path);
      return typeof value === 'string' ? new BufferSecret(Buffer.from(value, 'utf8')) : null;
    },
    extractJson: (secret, path) => {
      const value = tryValueAt(secret, path);
      return value === undefined ? null : new BufferSecret(Buffer.from(JSON.stringify(value), 'utf8'));
    },
    secretView: (secret) => bytesOf(secret),
    copySecretTo: (secret, target) => {
      const bytes = bytesOf(secret);
      if (target.byteLength < bytes.length) {
        throw new NomyoError('the target is smaller than the secret', 'NOMYO_TOO_LARGE');
      }
      target.set(bytes);
      return bytes.length;
    },
    secretToString: (secret) => bytesOf(secret).toString('utf8'),
    readSecretFile: (path, maxBytes) => {
      let fd: number;
      try {
        // O_NONBLOCK: a FIFO at the path must not hang the caller before the check below.
        fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      } catch (error) {
        throw Object.assign(new NomyoError('cannot open the file', 'NOMYO_IO'), {
          errno: (error as NodeJS.ErrnoException).errno,
        });
      }
      try {
        const stat = fs.fstatSync(fd);
        if (!stat.isFile()) throw new NomyoError('not a regular file', 'NOMYO_IO');
        if (stat.size > maxBytes) throw new NomyoError('the file is larger than expected', 'NOMYO_TOO_LARGE');
        return { secret: new BufferSecret(fs.readFileSync(fd)), mode: stat.mode & 0o7777, uid: stat.uid };
      } finally {
        fs.closeSync(fd);
      }
    },
    writeSecretToFd: (secret, fd) => {
      fs.writeSync(fd, bytesOf(secret));
    },
    generateKeyPair: (bits) =>
      new Promise((resolve, reject) => {
        if (bits < MIN_RSA_BITS) {
          reject(codedError('NOMYO_KEY_TOO_SMALL', 'RSA keys under 2048 bits are refused'));
          return;
        }
        crypto.generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 }, (err, _pub, priv) => {
          if (err) reject(codedError('NOMYO_KEYGEN_FAILED', 'RSA key generation failed'));
          else resolve(new KeyObjectPrivateKey(priv));
        });
      }),
    importPrivateKey: async (pem, password) => {
      const bytes = bytesOf(pem);
      const passphrase = password ? bytesOf(password) : undefined;
      let key: crypto.KeyObject;
      try {
        key = crypto.createPrivateKey({
          key: bytes,
          format: 'pem',
          ...(passphrase ? { passphrase } : {}),
        });
      } catch {
        if (bytes.includes('ENCRYPTED')) {
          if (!passphrase) {
            throw codedError('NOMYO_KEY_PASSWORD_REQUIRED', 'the private key is encrypted and no password was given');
          }
          throw codedError('NOMYO_KEY_BAD_PASSWORD', 'could not decrypt the private key: wrong password or damaged file');
        }
        throw codedError('NOMYO_KEY_INVALID', 'not a readable PEM private key');
      }
      checkUsableRsa(key);
      checkPrivateConsistency(key);
      return new KeyObjectPrivateKey(key);
    },
    importPublicKey: (pem) => {
      let key: crypto.KeyObject;
      try {
        if (!pem.includes('-----BEGIN PUBLIC KEY-----')) throw new Error('not SPKI');
        key = crypto.createPublicKey({ key: pem, format: 'pem' });
      } catch {
        throw codedError('NOMYO_KEY_INVALID', 'not a PEM (SubjectPublicKeyInfo) public key');
      }
      checkUsableRsa(key);
      return new KeyObjectPublicKey(key);
    },
    seal,
    sealPackage: async (plaintext, recipient) => Buffer.from(encodePackage(await seal(plaintext, recipient))),
    open,
    openPackage: async (body, key) => {
      const pkg = decodePackage(body);
      const secret = await open(pkg.fields, key);
      return {
        secret,
        algorithm: pkg.algorithm,
        ...(pkg.payloadId !== undefined ? { payloadId: pkg.payloadId } : {}),
        ...(pkg.processedAt !== undefined ? { processedAt: pkg.processedAt } : {}),
      };
    },
    // Every open here runs on the JS thread; there is nothing to schedule.
    beginExchange: () => ({ end: () => undefined }),
    memoryFacts: (): MemoryFacts => ({
      nativeAddon: false,
      lockWorks: false,
      dumpExclusionWorks: false,
      lockedBytes: 0,
      unlockedBytes: 0,
      pooledLockedBytes: 0,
      lockLimitBytes: null,
      privateKeysInSecureHeap: false,
      secureHeapLocked: false,
      fallbackReason,
    }),
    versions: () => ({ openssl: process.versions.openssl ?? 'unknown', libsodium: 'not used' }),
  };
}
