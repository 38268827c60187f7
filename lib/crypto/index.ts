// Picks the backend once per process: the addon when it loads, node:crypto otherwise.
import { loadNative } from '../native/loader';
import type { CryptoBackend } from './backend';
import { createNativeBackend } from './native-backend';
import { createNodeCryptoBackend } from './node-crypto-backend';

export type { CryptoBackend, CryptoOffload, Exchange, OpenedPackage, PrivateKeyHandle, PublicKeyHandle, Secret, MemoryFacts, SealedFields } from './backend';

let nativeBackend: CryptoBackend | undefined;
let fallbackBackend: CryptoBackend | undefined;

/** The native backend when available; `secureMemory: false` asks for the fallback. */
export function getBackend(options: { secureMemory?: boolean } = {}): CryptoBackend {
  const native = loadNative();
  if (native.loaded && options.secureMemory !== false) {
    nativeBackend ??= createNativeBackend(native.binding);
    return nativeBackend;
  }
  const reason = native.loaded ? 'secureMemory: false was requested' : `native addon not loaded: ${native.reason}`;
  fallbackBackend ??= createNodeCryptoBackend(reason);
  return fallbackBackend;
}
