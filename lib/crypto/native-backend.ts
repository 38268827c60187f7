// The backend of record: every secret in locked native memory.
import type { NativeBinding, NativePrivateKey, NativePublicKey, NativeSecureBuffer } from '../native/binding';
import { NomyoError } from '../errors';
import type { CryptoBackend, MemoryFacts, OpenedPackage, PrivateKeyHandle, PublicKeyHandle, SealedFields, Secret } from './backend';
import { mapErrors, mapErrorsAsync } from './error-mapping';
import { OpenScheduler } from './open-scheduler';

class NativePrivateKeyHandle implements PrivateKeyHandle {
  constructor(readonly native: NativePrivateKey) {}
  get bits(): number {
    return mapErrors(() => this.native.bits);
  }
  get disposed(): boolean {
    return this.native.disposed;
  }
  publicKeyPem(): string {
    return mapErrors(() => this.native.publicKeyPem());
  }
  exportPem(password?: Secret): Promise<Secret> {
    return mapErrorsAsync(() => this.native.exportPem(password as NativeSecureBuffer | undefined));
  }
  dispose(): void {
    this.native.dispose();
  }
}

class NativePublicKeyHandle implements PublicKeyHandle {
  readonly pem: string;
  constructor(readonly native: NativePublicKey) {
    this.pem = native.toPem();
  }
  get bits(): number {
    return this.native.bits;
  }
}

function nativeKey(key: PrivateKeyHandle): NativePrivateKey {
  if (!(key instanceof NativePrivateKeyHandle)) throw new NomyoError('the key belongs to another backend');
  return key.native;
}

export function createNativeBackend(binding: NativeBinding): CryptoBackend {
  const { SecureBuffer, PrivateKey, PublicKey } = binding;
  const secureBufferClass = SecureBuffer as unknown as abstract new () => NativeSecureBuffer;
  /** The native object behind a Secret; anything else is refused, never coerced. */
  const nativeSecret = (secret: Secret): NativeSecureBuffer => {
    if (!(secret instanceof secureBufferClass)) {
      throw new NomyoError('the secret does not belong to the native backend', 'NOMYO_WRONG_BACKEND');
    }
    return secret;
  };
  const optionalSecret = (secret: Secret | undefined): NativeSecureBuffer | undefined =>
    secret === undefined ? undefined : nativeSecret(secret);
  const scheduler = new OpenScheduler();
  return {
    kind: 'native',
    secretFromString: (text) => mapErrors(() => SecureBuffer.fromString(text)),
    secretFromBytes: (bytes) => mapErrors(() => SecureBuffer.fromBytes(bytes)),
    serializeJson: (value, limit) => mapErrors(() => SecureBuffer.serializeJson(value, limit)),
    parseJson: (secret) => mapErrors(() => nativeSecret(secret).parseJson()),
    consumeJson: (secret) => mapErrors(() => nativeSecret(secret).consumeJson()),
    parseJsonAt: (secret, path) => mapErrors(() => nativeSecret(secret).parseJsonAt(path)),
    jsonTypeAt: (secret, path) => mapErrors(() => nativeSecret(secret).jsonTypeAt(path)),
    extractString: (secret, path) => mapErrors(() => nativeSecret(secret).extractString(path)),
    extractJson: (secret, path) => mapErrors(() => nativeSecret(secret).extractJson(path)),
    secretView: (secret) => mapErrors(() => nativeSecret(secret).view()),
    copySecretTo: (secret, target) => mapErrors(() => nativeSecret(secret).copyTo(target)),
    secretToString: (secret) => mapErrors(() => nativeSecret(secret).toString()),
    readSecretFile: (path, maxBytes) => mapErrors(() => SecureBuffer.readFile(path, maxBytes)),
    writeSecretToFd: (secret, fd) => mapErrors(() => nativeSecret(secret).writeToFd(fd)),
    generateKeyPair: async (bits) =>
      new NativePrivateKeyHandle(await mapErrorsAsync(() => PrivateKey.generate(bits))),
    importPrivateKey: async (pem, password) =>
      new NativePrivateKeyHandle(
        await mapErrorsAsync(() =>
          PrivateKey.importPem(nativeSecret(pem), optionalSecret(password)),
        ),
      ),
    importPublicKey: (pem) => new NativePublicKeyHandle(mapErrors(() => PublicKey.importPem(pem))),
    seal: async (plaintext, recipient): Promise<SealedFields> => {
      if (!(recipient instanceof NativePublicKeyHandle)) {
        throw new NomyoError('the key belongs to another backend');
      }
      return mapErrorsAsync(() => binding.seal(nativeSecret(plaintext), recipient.native));
    },
    sealPackage: async (plaintext, recipient): Promise<Buffer> => {
      if (!(recipient instanceof NativePublicKeyHandle)) {
        throw new NomyoError('the key belongs to another backend');
      }
      return mapErrorsAsync(() => binding.sealPackage(nativeSecret(plaintext), recipient.native));
    },
    openPackage: async (body, key, options): Promise<OpenedPackage> => {
      const native = nativeKey(key);
      const inline = options?.offload !== 'always' && (await scheduler.mayOpenInline(body.length, options?.exchange));
      const opened = inline
        ? mapErrors(() => binding.openPackageSync(body, native))
        : await scheduler.offload(() => mapErrorsAsync(() => binding.openPackage(body, native)));
      let processedAt: unknown;
      if (opened.processed_at !== undefined) processedAt = JSON.parse(opened.processed_at) as unknown;
      return {
        secret: opened.plaintext,
        algorithm: opened.algorithm,
        ...(opened.payload_id !== undefined ? { payloadId: opened.payload_id } : {}),
        ...(opened.processed_at !== undefined ? { processedAt } : {}),
      };
    },
    open: (fields, key) => mapErrorsAsync(() => binding.open(fields, nativeKey(key))),
    beginExchange: () => scheduler.beginExchange(),
    memoryFacts: (): MemoryFacts => {
      const facts = binding.memoryFacts();
      return {
        nativeAddon: true,
        lockWorks: facts.probe_locked,
        dumpExclusionWorks: facts.probe_dump_excluded,
        lockedBytes: facts.locked_bytes,
        unlockedBytes: facts.unlocked_bytes,
        pooledLockedBytes: facts.pooled_locked_bytes,
        lockLimitBytes: facts.lock_limit_bytes,
        privateKeysInSecureHeap: facts.openssl_secure_heap,
        secureHeapLocked: facts.openssl_secure_heap_locked,
      };
    },
    versions: () => {
      const v = binding.versions();
      return { openssl: v.openssl, libsodium: v.libsodium, napi: String(v.napi) };
    },
  };
}
