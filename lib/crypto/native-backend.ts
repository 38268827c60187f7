// The backend of record: every secret in locked native memory.
import type { NativeBinding, NativePrivateKey, NativePublicKey, NativeSecureBuffer } from '../native/binding';
import { NomyoError } from '../errors';
import type { CryptoBackend, MemoryFacts, PrivateKeyHandle, PublicKeyHandle, SealedFields, Secret } from './backend';
import { mapErrors, mapErrorsAsync } from './error-mapping';

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
  return {
    kind: 'native',
    secretFromString: (text) => mapErrors(() => SecureBuffer.fromString(text)),
    secretFromBytes: (bytes) => mapErrors(() => SecureBuffer.fromBytes(bytes)),
    serializeJson: (value, limit) => mapErrors(() => SecureBuffer.serializeJson(value, limit)),
    parseJson: (secret) => mapErrors(() => (secret as NativeSecureBuffer).parseJson()),
    parseJsonAt: (secret, path) => mapErrors(() => (secret as NativeSecureBuffer).parseJsonAt(path)),
    jsonTypeAt: (secret, path) => mapErrors(() => (secret as NativeSecureBuffer).jsonTypeAt(path)),
    extractString: (secret, path) => mapErrors(() => (secret as NativeSecureBuffer).extractString(path)),
    extractJson: (secret, path) => mapErrors(() => (secret as NativeSecureBuffer).extractJson(path)),
    secretView: (secret) => mapErrors(() => (secret as NativeSecureBuffer).view()),
    copySecretTo: (secret, target) => mapErrors(() => (secret as NativeSecureBuffer).copyTo(target)),
    secretToString: (secret) => mapErrors(() => (secret as NativeSecureBuffer).toString()),
    readSecretFile: (path, maxBytes) => mapErrors(() => SecureBuffer.readFile(path, maxBytes)),
    writeSecretToFd: (secret, fd) => mapErrors(() => (secret as NativeSecureBuffer).writeToFd(fd)),
    generateKeyPair: async (bits) =>
      new NativePrivateKeyHandle(await mapErrorsAsync(() => PrivateKey.generate(bits))),
    importPrivateKey: async (pem, password) =>
      new NativePrivateKeyHandle(
        await mapErrorsAsync(() =>
          PrivateKey.importPem(pem as NativeSecureBuffer, password as NativeSecureBuffer | undefined),
        ),
      ),
    importPublicKey: (pem) => new NativePublicKeyHandle(mapErrors(() => PublicKey.importPem(pem))),
    seal: async (plaintext, recipient): Promise<SealedFields> => {
      if (!(recipient instanceof NativePublicKeyHandle)) {
        throw new NomyoError('the key belongs to another backend');
      }
      return mapErrorsAsync(() => binding.seal(plaintext as NativeSecureBuffer, recipient.native));
    },
    open: (fields, key) => mapErrorsAsync(() => binding.open(fields, nativeKey(key))),
    memoryFacts: (): MemoryFacts => {
      const facts = binding.memoryFacts();
      return {
        nativeAddon: true,
        lockWorks: facts.probe_locked,
        dumpExclusionWorks: facts.probe_dump_excluded,
        lockedBytes: facts.locked_bytes,
        unlockedBytes: facts.unlocked_bytes,
        lockLimitBytes: facts.lock_limit_bytes,
        privateKeysInSecureHeap: facts.openssl_secure_heap,
      };
    },
    versions: () => {
      const v = binding.versions();
      return { openssl: v.openssl, libsodium: v.libsodium, napi: String(v.napi) };
    },
  };
}
