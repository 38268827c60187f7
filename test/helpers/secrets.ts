// Backend-neutral access to keys and secret bytes for tests.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { createNativeBackend } from '../../lib/crypto/native-backend';
import type { CryptoBackend, PrivateKeyHandle, Secret } from '../../lib/crypto';
import { testHooksBinding } from './backends';
import { makeTempDir } from './tmp';

/** The native backend over the test-hooks build, so `testing` sees what it does. */
export function testHooksBackend(): CryptoBackend {
  return createNativeBackend(testHooksBinding());
}

/** The exact bytes of a secret, through the backend's own writeSecretToFd (no UTF-8 decoding). */
export function secretBytes(backend: CryptoBackend, secret: Secret): Buffer {
  const tmp = makeTempDir();
  try {
    const file = tmp.file('secret.bin');
    const fd = fs.openSync(file, 'w', 0o600);
    try {
      backend.writeSecretToFd(secret, fd);
    } finally {
      fs.closeSync(fd);
    }
    return fs.readFileSync(file);
  } finally {
    tmp.remove();
  }
}

/** A fresh RSA key from node:crypto, as unencrypted PKCS#8 PEM (fast to share between backends). */
export async function rsaPrivatePem(bits: number): Promise<string> {
  return new Promise((resolve, reject) => {
    crypto.generateKeyPair(
      'rsa',
      { modulusLength: bits, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } },
      (error, _publicKey, privateKey) => (error ? reject(error) : resolve(privateKey)),
    );
  });
}

/** Loads a PEM text into a backend, disposing the intermediate secrets. */
export async function importPem(backend: CryptoBackend, pem: string, password?: string): Promise<PrivateKeyHandle> {
  const pemSecret = backend.secretFromString(pem);
  const passwordSecret = password === undefined ? undefined : backend.secretFromString(password);
  try {
    return await backend.importPrivateKey(pemSecret, passwordSecret);
  } finally {
    pemSecret.dispose();
    passwordSecret?.dispose();
  }
}

/** The key as PEM text (unencrypted PKCS#8, or encrypted under `password`). */
export async function exportPemText(backend: CryptoBackend, key: PrivateKeyHandle, password?: string): Promise<string> {
  const passwordSecret = password === undefined ? undefined : backend.secretFromString(password);
  try {
    const pem = await key.exportPem(passwordSecret);
    try {
      return backend.secretToString(pem);
    } finally {
      pem.dispose();
    }
  } finally {
    passwordSecret?.dispose();
  }
}
