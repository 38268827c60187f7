// What the client and the reference server need from cryptography, whichever
// implementation serves it: the native addon, or node:crypto when it is absent.
import type { JsonPath, JsonType, SealedFields } from '../native/binding';
import type { Exchange } from './open-scheduler';

export type { Exchange, JsonPath, JsonType, SealedFields };

/** Opaque secret bytes. With the native backend they live in locked memory. */
export interface Secret {
  readonly byteLength: number;
  /** Pinned in RAM (mlock) right now, all of it. */
  readonly locked: boolean;
  /** How many of its bytes are pinned: under a lock limit a large secret may be locked in part. */
  readonly lockedBytes: number;
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
  /** Locked memory holding no secret: wiped small mappings kept for reuse. */
  pooledLockedBytes: number;
  /** RLIMIT_MEMLOCK; null when unlimited or unknown. */
  lockLimitBytes: number | null;
  privateKeysInSecureHeap: boolean;
  /** That secure heap is known to be locked in RAM. */
  secureHeapLocked: boolean;
  /** Why the native addon is not in use, when it is not. */
  fallbackReason?: string;
}

export type CryptoOffload = 'auto' | 'always';

export interface OpenedPackage {
  secret: Secret;
  algorithm: string;
  /** The envelope's payload_id, when the server put one there (it is not sealed). */
  payloadId?: string;
  processedAt?: unknown;
}

export interface CryptoBackend {
  readonly kind: 'native' | 'node-crypto';
  secretFromString(text: string): Secret;
  secretFromBytes(bytes: Uint8Array): Secret;
  /** JSON.stringify's result, in secret memory; NOMYO_TOO_LARGE past `limit` bytes. */
  serializeJson(value: unknown, limit: number): Secret;
  parseJson(secret: Secret): unknown;
  /** parseJson(), for a secret read for the last time: it is disposed, whatever the outcome. */
  consumeJson(secret: Secret): unknown;
  /** The value at `path` of the JSON in `secret`, as JS; undefined when absent. */
  parseJsonAt(secret: Secret, path: JsonPath): unknown;
  jsonTypeAt(secret: Secret, path: JsonPath): JsonType | undefined;
  /** The unescaped string at `path`, as a new secret; null when absent or not a string. */
  extractString(secret: Secret, path: JsonPath): Secret | null;
  /** The JSON text of the value at `path`, as a new secret; null when absent. */
  extractJson(secret: Secret, path: JsonPath): Secret | null;
  /** A Buffer over the secret's own memory (zeros after dispose); NOMYO_NO_EXTERNAL_BUFFERS where refused. */
  secretView(secret: Secret): Buffer;
  /** Copies the secret into `target`; returns the byte count. */
  copySecretTo(secret: Secret, target: Uint8Array): number;
  /** An explicit copy into a JS string, for the caller who asks for one. */
  secretToString(secret: Secret): string;
  /** Reads a file into secret memory; `mode` is from the opened descriptor. */
  readSecretFile(path: string, maxBytes: number): { secret: Secret; mode: number; uid: number };
  writeSecretToFd(secret: Secret, fd: number): void;
  generateKeyPair(bits: number): Promise<PrivateKeyHandle>;
  importPrivateKey(pem: Secret, password?: Secret): Promise<PrivateKeyHandle>;
  importPublicKey(pem: string): PublicKeyHandle;
  seal(plaintext: Secret, recipient: PublicKeyHandle): Promise<SealedFields>;
  /** seal(), then the whole package body (protocol 1.0) as bytes ready for the socket. */
  sealPackage(plaintext: Secret, recipient: PublicKeyHandle): Promise<Buffer>;
  open(fields: SealedFields, key: PrivateKeyHandle): Promise<Secret>;
  /**
   * decodePackage() and open() in one: the package body's envelope is checked, its payload decrypted.
   * With `offload: 'auto'` (the default) a lone small response may be opened on the JS thread
   * (see open-scheduler.ts); 'always' keeps every one off it. `exchange` is the one
   * the body answers, from beginExchange().
   */
  openPackage(body: Buffer, key: PrivateKeyHandle, options?: { offload?: CryptoOffload; exchange?: Exchange }): Promise<OpenedPackage>;
  /** Counts a request/response exchange as in flight until its end(); see open-scheduler.ts. */
  beginExchange(): Exchange;
  memoryFacts(): MemoryFacts;
  versions(): Record<string, string>;
}
