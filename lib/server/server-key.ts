// The server's RSA key: loaded from a PEM file kept owner-only, or generated in
// memory at start (then it lives as long as the server and is never written out).
import type { CryptoBackend, PrivateKeyHandle } from '../crypto';
import { KeyError, NomyoError } from '../errors';
import { publicKeyFingerprint } from '../keys/fingerprint';

export const DEFAULT_SERVER_KEY_BITS = 4096;
export const MIN_SERVER_KEY_BITS = 2048;
/** A PEM private key, even an encrypted 16384-bit one, is far smaller. */
const MAX_KEY_FILE_BYTES = 1024 * 1024;
const GROUP_OR_OTHER_BITS = 0o077;

export interface ServerKey {
  readonly handle: PrivateKeyHandle;
  readonly bits: number;
  readonly publicKeyPem: string;
  readonly fingerprint: string;
  readonly source: 'generated' | 'file';
}

function describe(handle: PrivateKeyHandle, source: ServerKey['source']): ServerKey {
  const publicKeyPem = handle.publicKeyPem();
  return { handle, bits: handle.bits, publicKeyPem, fingerprint: publicKeyFingerprint(publicKeyPem), source };
}

export async function generateServerKey(backend: CryptoBackend, bits = DEFAULT_SERVER_KEY_BITS): Promise<ServerKey> {
  if (!Number.isInteger(bits) || bits < MIN_SERVER_KEY_BITS) {
    throw new KeyError(`keyBits must be an integer of at least ${MIN_SERVER_KEY_BITS}`, 'NOMYO_KEY_TOO_SMALL');
  }
  return describe(await backend.generateKeyPair(bits), 'generated');
}

function readKeyFile(backend: CryptoBackend, path: string): ReturnType<CryptoBackend['readSecretFile']> {
  try {
    return backend.readSecretFile(path, MAX_KEY_FILE_BYTES);
  } catch (error) {
    const code = error instanceof NomyoError ? error.code : 'NOMYO_IO';
    throw new KeyError(`cannot read the server private key file ${path}`, code === 'NOMYO_TOO_LARGE' ? code : 'NOMYO_IO');
  }
}

/**
 * Loads a PEM private key (PKCS#8 or PKCS#1, encrypted or not). The mode is the
 * one of the descriptor that was read, so a file swapped in after the check
 * cannot slip through.
 */
export async function loadServerKey(backend: CryptoBackend, path: string, password?: string): Promise<ServerKey> {
  const { secret: pem, mode } = readKeyFile(backend, path);
  const passwordSecret = password === undefined ? undefined : backend.secretFromString(password);
  try {
    if ((mode & GROUP_OR_OTHER_BITS) !== 0) {
      throw new KeyError(
        `the server private key file ${path} is accessible to group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
        'NOMYO_KEY_FILE_MODE',
      );
    }
    return describe(await backend.importPrivateKey(pem, passwordSecret), 'file');
  } finally {
    pem.dispose();
    passwordSecret?.dispose();
  }
}
