// The shape of the native addon, as its C++ registers it. Internal: the rest of
// the SDK reaches it through the crypto backend, never directly.

export interface NativeSecureBuffer {
  readonly byteLength: number;
  readonly locked: boolean;
  readonly dumpExcluded: boolean;
  readonly disposed: boolean;
  dispose(): void;
  /** An explicit copy of the bytes into a JS string: the caller owns its lifetime. */
  toString(): string;
  /** Parses the JSON held in secure memory; no JS string of the document is made. */
  parseJson(): unknown;
  writeToFd(fd: number): void;
  equals(other: NativeSecureBuffer): boolean;
}

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
  lock_limit_bytes: number | null;
  openssl_secure_heap: boolean;
  openssl_secure_heap_used: number;
}

export interface NativeTestHooks {
  wipeStats(): { checked: number; notZero: number };
  regionAddress(buffer: NativeSecureBuffer): bigint;
  gcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): { ciphertext: Buffer; tag: Buffer };
  gcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): NativeSecureBuffer;
}

export interface NativeBinding {
  SecureBuffer: NativeSecureBufferStatic;
  PrivateKey: NativePrivateKeyStatic;
  PublicKey: NativePublicKeyStatic;
  seal(plaintext: NativeSecureBuffer, recipient: NativePublicKey | NativePrivateKey): Promise<SealedFields>;
  open(fields: SealedFields, key: NativePrivateKey): Promise<NativeSecureBuffer>;
  memoryFacts(): NativeMemoryFacts;
  versions(): { openssl: string; libsodium: string; napi: number };
  /** Present only in the test-hooks build. */
  testing?: NativeTestHooks;
}
