// A decrypted response that stays in locked memory. The caller reads what it
// needs — as a view over locked memory, or as an explicit copy — and disposes.
import type { CryptoBackend, Secret } from '../crypto';
import { NomyoError } from '../errors';
import type { ChatCompletion, ResponseMetadata } from './types';

export class SecureResponse implements Disposable {
  /** `_metadata` as create() would return it; holds no message content. */
  readonly metadata: ResponseMetadata;

  readonly #backend: CryptoBackend;
  #document: Secret | null;
  /** Strings extracted from the document, each in its own secret; wiped with it. */
  readonly #extracted = new Map<string, Secret | null>();

  constructor(backend: CryptoBackend, document: Secret, metadata: ResponseMetadata) {
    this.#backend = backend;
    this.#document = document;
    this.metadata = metadata;
  }

  get disposed(): boolean {
    return this.#document === null;
  }

  /**
   * The unescaped UTF-8 text of `choices[i].message.content`, as a Buffer over
   * locked memory (reads as zeros after dispose()); null when there is none.
   * Runtimes that forbid such buffers (sandboxed V8, e.g. Electron) throw
   * NOMYO_NO_EXTERNAL_BUFFERS: use copyContentTo() there.
   */
  content(choice = 0): Buffer | null {
    const secret = this.#content(choice);
    return secret === null ? null : this.#backend.secretView(secret);
  }

  /** Bytes of UTF-8 in `choices[i].message.content` (0 when there is none). */
  contentLength(choice = 0): number {
    return this.#content(choice)?.byteLength ?? 0;
  }

  /** Copies the content into a buffer you own (and must wipe); returns the byte count. */
  copyContentTo(target: Uint8Array, choice = 0): number {
    const secret = this.#content(choice);
    return secret === null ? 0 : this.#backend.copySecretTo(secret, target);
  }

  /** An explicit copy of the content into a JS string — which cannot be wiped: its lifetime is yours. */
  text(choice = 0): string | null {
    const secret = this.#content(choice);
    return secret === null ? null : this.#backend.secretToString(secret);
  }

  /** `choices[i].message.tool_calls` as JSON text in locked memory (a view), or null. */
  toolCallsJson(choice = 0): Buffer | null {
    const secret = this.#extract(`tool_calls:${choice}`, (document) =>
      this.#backend.extractJson(document, ['choices', choice, 'message', 'tool_calls']),
    );
    return secret === null ? null : this.#backend.secretView(secret);
  }

  /** An explicit copy of `choices[i].message.tool_calls` as JS objects, or null. */
  toolCalls(choice = 0): unknown[] | null {
    const value = this.#backend.parseJsonAt(this.#live(), ['choices', choice, 'message', 'tool_calls']);
    return Array.isArray(value) ? value : null;
  }

  /** An explicit copy of the whole response as a plain object, as create() returns it. */
  json(): ChatCompletion {
    const completion = this.#backend.parseJson(this.#live()) as ChatCompletion;
    completion._metadata = this.metadata;
    return completion;
  }

  /** Wipes the decrypted response and everything extracted from it. */
  dispose(): void {
    for (const secret of this.#extracted.values()) secret?.dispose();
    this.#extracted.clear();
    this.#document?.dispose();
    this.#document = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #live(): Secret {
    if (this.#document === null) throw new NomyoError('the secure response was disposed', 'NOMYO_DISPOSED');
    return this.#document;
  }

  #content(choice: number): Secret | null {
    return this.#extract(`content:${choice}`, (document) =>
      this.#backend.extractString(document, ['choices', choice, 'message', 'content']),
    );
  }

  #extract(key: string, extract: (document: Secret) => Secret | null): Secret | null {
    const document = this.#live();
    if (!this.#extracted.has(key)) this.#extracted.set(key, extract(document));
    return this.#extracted.get(key) ?? null;
  }
}
