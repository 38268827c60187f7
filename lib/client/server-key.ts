// The server's public key: fetched once per base URL, checked, pinned if asked.
import type { CryptoBackend, PublicKeyHandle } from '../crypto';
import { APIUserAbortError, KeyError, SecurityError } from '../errors';
import { fingerprintsEqual, publicKeyFingerprint } from '../keys/fingerprint';
import type { Logger } from '../logging';
import { PUBLIC_KEY_PATH } from '../protocol/constants';
import type { HttpTransport } from '../transport/http-transport';
import { errorFromResponse } from '../transport/status-errors';
import { endpointUrl } from './endpoint-url';

export interface ServerKey {
  key: PublicKeyHandle;
  fingerprint: string;
}

function abandonOnAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new APIUserAbortError('the request was aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new APIUserAbortError('the request was aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export class ServerKeyCache {
  readonly #entries = new Map<string, Promise<ServerKey>>();

  constructor(
    private readonly backend: CryptoBackend,
    private readonly transport: HttpTransport,
    private readonly logger: Logger,
    private readonly pinnedFingerprint: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  get pinned(): boolean {
    return this.pinnedFingerprint !== undefined;
  }

  /**
   * The key for `baseUrl`, fetched once and shared. The shared fetch runs under
   * the client's timeout only; each caller's own signal abandons its wait, not
   * the fetch the other callers share.
   */
  get(baseUrl: string, signal?: AbortSignal): Promise<ServerKey> {
    let entry = this.#entries.get(baseUrl);
    if (!entry) {
      const fetched = this.#fetch(baseUrl);
      entry = fetched;
      this.#entries.set(baseUrl, fetched);
      // A failed fetch is not cached: the next request tries again.
      fetched.catch(() => {
        if (this.#entries.get(baseUrl) === fetched) this.#entries.delete(baseUrl);
      });
    }
    return signal ? abandonOnAbort(entry, signal) : entry;
  }

  /** Forgets the key, e.g. after the server said it could not decrypt (rotation). */
  invalidate(baseUrl: string): void {
    this.#entries.delete(baseUrl);
  }

  async #fetch(baseUrl: string): Promise<ServerKey> {
    const response = await this.transport.request({
      method: 'GET',
      url: endpointUrl(baseUrl, PUBLIC_KEY_PATH),
      headers: { accept: 'application/x-pem-file, text/plain, */*' },
      timeoutMs: this.timeoutMs,
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
