// What the client and the reference server need from cryptography, whichever
// implementation serves it: the native addon, or node:crypto when it is absent.
import type { SealedFields } from '../native/binding';

export type { SealedFields };

/** Opaque secret bytes. With the native backend they live in locked memory. */
export interface Secret {
  readonly byteLength: number;
  /** Pinned in RAM (mlock) right now. */
  readonly locked: boolean;
  /** Excluded from core dumps (MADV_DONTDUMP) right now. */
  readonly dumpExcluded: boolean;
  readonly disposed: boolean;
  /** Wipes the bytes; any later use throws. */
  dispose(): void;
}

export interface PrivateKeyHandle {
  readonly bits: number;
  readonly disposed: boolean;
  /** SubjectPublicKeyInfo PEM of the public half. */
  publicKeyPem(): string;
  /** PKCS#8 PEM, encrypted (PBES2, AES-256-CBC) when a password is given. */
  exportPem(password?: Secret): Promise<Secret>;
  dispose(): void;
}

export interface PublicKeyHandle {
  readonly bits: number;
  readonly pem: string;
}

export interface MemoryFacts {
  nativeAddon: boolean;
  /** A secret allocated now would be locked. */
  lockWorks: boolean;
  /** A secret allocated now would be excluded from core dumps. */
  dumpExclusionWorks: boolean;
  lockedBytes: number;
  unlockedBytes: number;
  /** RLIMIT_MEMLOCK; null when unlimited or unknown. */
  lockLimitBytes: number | null;
  privateKeysInSecureHeap: boolean;
  /** Why the native addon is not in use, when it is not. */
  fallbackReason?: string;
}

export interface CryptoBackend {
  readonly kind: 'native' | 'node-crypto';
  secretFromString(text: string): Secret;
  secretFromBytes(bytes: Uint8Array): Secret;
  /** JSON.stringify's result, in secret memory; NOMYO_TOO_LARGE past `limit` bytes. */
  serializeJson(value: unknown, limit: number): Secret;
  parseJson(secret: Secret): unknown;
  /** An explicit copy into a JS string, for the caller who asks for one. */
  secretToString(secret: Secret): string;
  /** Reads a file into secret memory; `mode` is from the opened descriptor. */
  readSecretFile(path: string, maxBytes: number): { secret: Secret; mode: number; uid: number };
  writeSecretToFd(secret: Secret, fd: number): void;
  generateKeyPair(bits: number): Promise<PrivateKeyHandle>;
  importPrivateKey(pem: Secret, password?: Secret): Promise<PrivateKeyHandle>;
  importPublicKey(pem: string): PublicKeyHandle;
  seal(plaintext: Secret, recipient: PublicKeyHandle): Promise<SealedFields>;
  open(fields: SealedFields, key: PrivateKeyHandle): Promise<Secret>;
  memoryFacts(): MemoryFacts;
  versions(): Record<string, string>;
}
