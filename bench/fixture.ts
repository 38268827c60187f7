// The keys every scenario shares. The client key pair is made by the SDK and
// handed to node:crypto as well, so both clients work on the same modulus; it is
// also saved (owner-only, in a temporary folder) for the clients that load keys
// from files: the round-trip client and the memory children.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sdkCrypto } from './sdk';
import type { CryptoBackend, PrivateKeyHandle, PublicKeyHandle } from './sdk';

export interface Fixture {
  backend: CryptoBackend;
  /** The client's private key as the SDK holds it. */
  clientKey: PrivateKeyHandle;
  /** The same key for node:crypto. */
  clientKeyObject: crypto.KeyObject;
  clientPublicKeyObject: crypto.KeyObject;
  clientPrivatePem: string;
  /** A folder with private_key.pem (0600) and public_key.pem of the client key. */
  keyDir: string;
  /** The recipient of sealed requests: an RSA-4096 key, as the SDK and node:crypto hold it. */
  serverPublicKey: PublicKeyHandle;
  serverPublicKeyObject: crypto.KeyObject;
  dispose(): void;
}

export async function makeFixture(): Promise<Fixture> {
  const backend = sdkCrypto.getBackend();
  if (backend.kind !== 'native') throw new Error(`the native addon did not load: ${backend.memoryFacts().fallbackReason ?? '?'}`);
  const [clientKey, server] = await Promise.all([
    backend.generateKeyPair(4096),
    new Promise<crypto.KeyPairKeyObjectResult>((resolve, reject) =>
      crypto.generateKeyPair('rsa', { modulusLength: 4096 }, (error, publicKey, privateKey) =>
        error ? reject(error) : resolve({ publicKey, privateKey }),
      ),
    ),
  ]);
  const pemSecret = await clientKey.exportPem();
  const clientPrivatePem = backend.secretToString(pemSecret);
  pemSecret.dispose();
  const clientKeyObject = crypto.createPrivateKey(clientPrivatePem);
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nomyo-bench-'));
  fs.writeFileSync(path.join(keyDir, 'private_key.pem'), clientPrivatePem, { mode: 0o600 });
  fs.writeFileSync(path.join(keyDir, 'public_key.pem'), clientKey.publicKeyPem(), { mode: 0o644 });
  const serverPem = server.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    backend,
    clientKey,
    clientKeyObject,
    clientPublicKeyObject: crypto.createPublicKey(clientKeyObject),
    clientPrivatePem,
    keyDir,
    serverPublicKey: backend.importPublicKey(serverPem),
    serverPublicKeyObject: server.publicKey,
    dispose: () => {
      clientKey.dispose();
      fs.rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
