// The server's public key: fetched once per base URL, checked, pinned if asked.
import type { CryptoBackend, PublicKeyHandle } from '../crypto';
import { KeyError, SecurityError } from '../errors';
import { fingerprintsEqual, publicKeyFingerprint } from '../keys/fingerprint';
import type { Logger } from '../logging';
import { PUBLIC_KEY_PATH } from '../protocol/constants';
import type { HttpTransport } from '../transport/http-transport';
import { errorFromResponse } from '../transport/status-errors';

export interface ServerKey {
  key: PublicKeyHandle;
  fingerprint: string;
}

export class ServerKeyCache {
  readonly #entries = new Map<string, Promise<ServerKey>>();

  constructor(
    private readonly backend: CryptoBackend,
    private readonly transport: HttpTransport,
    private readonly logger: Logger,
    private readonly pinnedFingerprint: string | undefined,
  ) {}

  get pinned(): boolean {
    return this.pinnedFingerprint !== undefined;
  }

  get(baseUrl: string, timeoutMs: number, signal?: AbortSignal): Promise<ServerKey> {
    let entry = this.#entries.get(baseUrl);
    if (!entry) {
      entry = this.#fetch(baseUrl, timeoutMs, signal);
      this.#entries.set(baseUrl, entry);
      // A failed fetch is not cached: the next request tries again.
      entry.catch(() => this.#entries.delete(baseUrl));
    }
    return entry;
  }

  /** Forgets the key, e.g. after the server said it could not decrypt (rotation). */
  invalidate(baseUrl: string): void {
    this.#entries.delete(baseUrl);
  }

  async #fetch(baseUrl: string, timeoutMs: number, signal?: AbortSignal): Promise<ServerKey> {
    const response = await this.transport.request({
      method: 'GET',
      url: new URL(PUBLIC_KEY_PATH, baseUrl),
      headers: { accept: 'application/x-pem-file, text/plain, */*' },
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
    if (response.status !== 200) throw errorFromResponse(response.status, response.headers, response.body);
    const pem = response.body.toString('utf8');
    let key: PublicKeyHandle;
    try {
      key = this.backend.importPublicKey(pem);
    } catch (error) {
      const reason = error instanceof KeyError ? error.message : 'not an RSA public key';
      throw new SecurityError(`the server's public key is unusable: ${reason}`, 'NOMYO_SERVER_KEY_INVALID');
    }
    const fingerprint = publicKeyFingerprint(key.pem);
    if (this.pinnedFingerprint !== undefined && !fingerprintsEqual(fingerprint, this.pinnedFingerprint)) {
      this.logger.error(`server key fingerprint ${fingerprint} does not match the pinned one; nothing sent`);
      throw new SecurityError(
        `the server's key fingerprint ${fingerprint} does not match the pinned fingerprint`,
        'NOMYO_SERVER_KEY_MISMATCH',
      );
    }
    this.logger.info(`server key fetched: RSA-${key.bits}, ${fingerprint}${this.pinned ? ' (pinned, matches)' : ''}`);
    return { key, fingerprint };
  }
}
