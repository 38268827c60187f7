// The shape of the native addon, as its C++ registers it. Internal: the rest of
// the SDK reaches it through the crypto backend, never directly.

export interface NativeSecureBuffer {
  readonly byteLength: number;
  readonly locked: boolean;
  /** Bytes of the secret pinned in RAM: all of them, or under a lock limit perhaps only some. */
  readonly lockedBytes: number;
  readonly dumpExcluded: boolean;
  readonly disposed: boolean;
  dispose(): void;
  /** An explicit copy of the bytes into a JS string: the caller owns its lifetime. */
  toString(): string;
  /** Parses the JSON held in secure memory; no JS string of the document is made. */
  parseJson(): unknown;
  /** parseJson(), free to decode strings over the secret's own bytes; disposes the secret. */
  consumeJson(): unknown;
  writeToFd(fd: number): void;
  equals(other: NativeSecureBuffer): boolean;
  /** The unescaped string at `path` of the JSON held here, in a new SecureBuffer; null if absent or not a string. */
  extractString(path: JsonPath): NativeSecureBuffer | null;
  /** The JSON text of the value at `path`, in a new SecureBuffer; null if absent. */
  extractJson(path: JsonPath): NativeSecureBuffer | null;
  /** The value at `path` as JS; undefined if absent. */
  parseJsonAt(path: JsonPath): unknown;
  jsonTypeAt(path: JsonPath): JsonType | undefined;
  /** A Buffer over this secret's locked memory; zeros once disposed. Throws NOMYO_NO_EXTERNAL_BUFFERS where the runtime forbids it. */
  view(): Buffer;
  copyTo(target: Uint8Array): number;
}

export type JsonPath = ReadonlyArray<string | number>;
export type JsonType = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

export interface NativeSecureBufferStatic {
  fromString(text: string): NativeSecureBuffer;
  fromBytes(bytes: Uint8Array): NativeSecureBuffer;
  serializeJson(value: unknown, limit: number): NativeSecureBuffer;
  readFile(path: string, maxBytes: number): { secret: NativeSecureBuffer; mode: number; uid: number };
}

export interface NativePrivateKey {
  readonly bits: number;
  readonly disposed: boolean;
  publicKeyPem(): string;
  exportPem(password?: NativeSecureBuffer): Promise<NativeSecureBuffer>;
  dispose(): void;
}

export interface NativePrivateKeyStatic {
  generate(bits: number): Promise<NativePrivateKey>;
  importPem(pem: NativeSecureBuffer, password?: NativeSecureBuffer): Promise<NativePrivateKey>;
}

export interface NativePublicKey {
  readonly bits: number;
  toPem(): string;
}

export interface NativePublicKeyStatic {
  importPem(pem: string): NativePublicKey;
}

export interface SealedFields {
  ciphertext: string;
  nonce: string;
  tag: string;
  encrypted_aes_key: string;
}

export interface NativeMemoryFacts {
  probe_locked: boolean;
  probe_dump_excluded: boolean;
  locked_bytes: number;
  unlocked_bytes: number;
  live_regions: number;
  /** Locked, wiped mappings kept for the next small secret (in VmLck, not in locked_bytes). */
  pooled_locked_bytes: number;
  lock_limit_bytes: number | null;
  openssl_secure_heap: boolean;
  /** The addon set the secure heap up and OpenSSL locked its pages. */
  openssl_secure_heap_locked: boolean;
  openssl_secure_heap_used: number;
}

export interface NativeTestHooks {
  wipeStats(): { checked: number; notZero: number };
  regionAddress(buffer: NativeSecureBuffer): bigint;
  /** SHA-256 (hex) of the most recent AES keys sealed or opened, oldest first; never the keys. */
  recentKeyHashes(): string[];
  gcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): { ciphertext: Buffer; tag: Buffer };
  gcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): NativeSecureBuffer;
}

/** verifyQuote's input: the decoded blobs of `_metadata.tpm_attestation` and what they must say. */
export interface NativeQuoteInput {
  /** TPM2B_PUBLIC of the attestation key. */
  aikPublic: Uint8Array;
  /** TPM2B_ATTEST. */
  quote: Uint8Array;
  /** TPMT_SIGNATURE. */
  signature: Uint8Array;
  /** The qualifying data the quote must carry (16 bytes in the protocol). */
  expectedNonce: Uint8Array;
  pcrBank: 'sha256' | 'sha384' | 'sha512';
  /** Ascending, distinct, 0-23. */
  pcrIndices: number[];
  /** One value per index, in the same order. */
  pcrValues: Uint8Array[];
}

export type NativeCheckOutcome = 'pass' | 'fail' | 'skipped';

export interface NativeQuoteFacts {
  type: string;
  /** UINT64 as a decimal string. */
  clock: string;
  resetCount: number;
  restartCount: number;
  safe: boolean;
  /** UINT64 as 0x-prefixed hex. */
  firmwareVersion: string;
  qualifiedSigner: string;
  extraData: string;
  pcrSelection?: Array<{ bank: string; pcrs: number[] }>;
  pcrDigest?: string;
}

export interface NativeAikFacts {
  fingerprint: string;
  type?: string;
  scheme?: string;
  hash?: string;
  curve?: string;
  bits?: number;
  attributes?: string[];
}

export interface NativeQuoteVerdict {
  verified: boolean;
  failure?: string;
  /** Set when libtss2-mu could not be loaded; every check is then skipped. */
  tss2Unavailable?: true;
  checks: Record<string, NativeCheckOutcome>;
  problems: Record<string, string>;
  quote?: NativeQuoteFacts;
  aik?: NativeAikFacts;
  signature?: { algorithm: string; hash: string };
}

export interface NativeTss2Availability {
  available: boolean;
  reason?: string;
}

export interface NativeAttestationTestHooks {
  /** One load attempt from another soname; never changes the library verifyQuote uses. */
  tss2TryLoad(soname: string): NativeTss2Availability;
}

export interface NativeOpenedPackage {
  plaintext: NativeSecureBuffer;
  algorithm: string;
  payload_id?: string;
  /** JSON text of the envelope's processed_at. */
  processed_at?: string;
}

export interface NativeBinding {
  SecureBuffer: NativeSecureBufferStatic;
  PrivateKey: NativePrivateKeyStatic;
  PublicKey: NativePublicKeyStatic;
  seal(plaintext: NativeSecureBuffer, recipient: NativePublicKey | NativePrivateKey): Promise<SealedFields>;
  open(fields: SealedFields, key: NativePrivateKey): Promise<NativeSecureBuffer>;
  /** Reads the package envelope from `body` and decrypts it, both on a crypto thread. */
  openPackage(
    body: Buffer,
    key: NativePrivateKey,
  ): Promise<NativeOpenedPackage>;
  /** openPackage() on the JS thread. */
  openPackageSync(body: Buffer, key: NativePrivateKey): NativeOpenedPackage;
  /** The whole package body for `recipient`, as the protocol's UTF-8 JSON. */
  sealPackage(plaintext: NativeSecureBuffer, recipient: NativePublicKey | NativePrivateKey): Promise<Buffer>;
  memoryFacts(): NativeMemoryFacts;
  versions(): { openssl: string; libsodium: string; napi: number };
  /** Offline TPM2_Quote verification; throws only on wrong argument types. */
  verifyQuote(input: NativeQuoteInput): NativeQuoteVerdict;
  /** Whether libtss2-mu (loaded at run time) is there for verifyQuote. */
  tss2Available(): NativeTss2Availability;
  /** Present only in the test-hooks build. */
  attestationTesting?: NativeAttestationTestHooks;
  /** Present only in the test-hooks build. */
  testing?: NativeTestHooks;
}
