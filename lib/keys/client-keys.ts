// The client's own RSA key pair: made in memory on first use (once, however many
// calls race for it), or generated to files, or loaded from them.
import type { CryptoBackend, PrivateKeyHandle } from '../crypto';
import { KeyError } from '../errors';
import type { Logger } from '../logging';
import { publicKeyFingerprint } from './fingerprint';
import { DEFAULT_KEY_DIR, readPrivateKeyFile, readPublicKeyFile, saveKeyPair } from './key-files';

export const CLIENT_KEY_BITS = 4096;

export interface GenerateKeysOptions {
  saveToFile?: boolean;
  keyDir?: string;
  password?: string;
}

export interface LoadKeysOptions {
  password?: string;
}

export interface ClientKeyPair {
  privateKey: PrivateKeyHandle;
  publicKeyPem: string;
}

function samePublicKey(a: string, b: string): boolean {
  try {
    return publicKeyFingerprint(a) === publicKeyFingerprint(b);
  } catch {
    return false; // an unreadable public key file matches nothing
  }
}

export class ClientKeys {
  #current: ClientKeyPair | undefined;
  #pending: Promise<ClientKeyPair> | undefined;

  constructor(
    private readonly backend: CryptoBackend,
    private readonly logger: Logger,
  ) {}

  /** The loaded pair, or a fresh in-memory RSA-4096 pair made once. */
  get(): Promise<ClientKeyPair> {
    if (this.#current) return Promise.resolve(this.#current);
    this.#pending ??= this.generate({}).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async generate(options: GenerateKeysOptions): Promise<ClientKeyPair> {
    const privateKey = await this.backend.generateKeyPair(CLIENT_KEY_BITS);
    const pair = { privateKey, publicKeyPem: privateKey.publicKeyPem() };
    this.logger.info(`client key generated: RSA-${privateKey.bits}, ${publicKeyFingerprint(pair.publicKeyPem)}`);
    if (options.saveToFile) {
      const dir = options.keyDir ?? DEFAULT_KEY_DIR;
      const password = options.password !== undefined ? this.backend.secretFromString(options.password) : undefined;
      try {
        const pem = await privateKey.exportPem(password);
        try {
          const paths = saveKeyPair(this.backend, dir, pem, pair.publicKeyPem);
          this.logger.info(`client key saved: ${paths.privateKeyPath} (0600), ${paths.publicKeyPath} (0644)`);
        } finally {
          pem.dispose();
        }
      } catch (error) {
        privateKey.dispose();
        throw error;
      } finally {
        password?.dispose();
      }
      if (options.password === undefined) {
        this.logger.warn('the private key was saved without a password; protect saved keys with one');
      }
    }
    this.#replace(pair);
    return pair;
  }

  async load(privateKeyPath: string, publicKeyPath: string | undefined, options: LoadKeysOptions): Promise<ClientKeyPair> {
    const pem = readPrivateKeyFile(this.backend, privateKeyPath);
    const password = options.password !== undefined ? this.backend.secretFromString(options.password) : undefined;
    let privateKey: PrivateKeyHandle;
    try {
      privateKey = await this.backend.importPrivateKey(pem, password);
    } finally {
      pem.dispose();
      password?.dispose();
    }
    const publicKeyPem = privateKey.publicKeyPem();
    if (publicKeyPath !== undefined) {
      const stated = readPublicKeyFile(publicKeyPath);
      if (!samePublicKey(stated, publicKeyPem)) {
        privateKey.dispose();
        throw new KeyError(`${publicKeyPath} is not the public half of ${privateKeyPath}`, 'NOMYO_KEY_MISMATCH');
      }
    }
    this.logger.info(`client key loaded: RSA-${privateKey.bits}, ${publicKeyFingerprint(publicKeyPem)}`);
    const pair = { privateKey, publicKeyPem };
    this.#replace(pair);
    return pair;
  }

  #replace(pair: ClientKeyPair): void {
    const previous = this.#current;
    this.#current = pair;
    // A request in flight holds its own reference to the old key in native code.
    if (previous && previous !== pair) previous.privateKey.dispose();
  }

  dispose(): void {
    this.#current?.privateKey.dispose();
    this.#current = undefined;
  }
}
