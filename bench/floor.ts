// The OpenSSL floor: the protocol's primitives alone, timed in-process through
// node:crypto (the same OpenSSL 3.0 the addon uses). No client can beat these.
import * as crypto from 'node:crypto';
import type { Laps } from './measure';

const OAEP = { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

export class Floor {
  readonly #privateKey: crypto.KeyObject;
  readonly #publicKey: crypto.KeyObject;
  readonly #wrapped: Buffer;
  readonly #aesKey = crypto.randomBytes(32);
  readonly #inputs = new Map<number, Buffer>();

  constructor(privateKey: crypto.KeyObject) {
    this.#privateKey = privateKey;
    this.#publicKey = crypto.createPublicKey(privateKey);
    this.#wrapped = crypto.publicEncrypt({ key: this.#publicKey, ...OAEP }, this.#aesKey);
  }

  /** One RSA-4096 OAEP-SHA256 private decrypt. */
  rsaPrivate(): void {
    crypto.privateDecrypt({ key: this.#privateKey, ...OAEP }, this.#wrapped);
  }

  /** One RSA-4096 OAEP-SHA256 public encrypt of a 32-byte key. */
  rsaPublic(): void {
    crypto.publicEncrypt({ key: this.#publicKey, ...OAEP }, this.#aesKey);
  }

  /** AES-256-GCM over `bytes` bytes (the input is made once, outside the timing). */
  aesGcm(bytes: number): void {
    let input = this.#inputs.get(bytes);
    if (!input) {
      input = crypto.randomBytes(bytes);
      this.#inputs.set(bytes, input);
    }
    const cipher = crypto.createCipheriv('aes-256-gcm', this.#aesKey, crypto.randomBytes(12));
    cipher.update(input);
    cipher.final();
    cipher.getAuthTag();
  }

  /** Floor of sealing N bytes: AES-GCM over them and one RSA public op. */
  seal(bytes: number, laps: Laps): void {
    this.aesGcm(bytes);
    laps.lap('aes');
    this.rsaPublic();
    laps.lap('rsa');
  }

  /** Floor of opening N bytes: one RSA private op and AES-GCM over them. */
  open(bytes: number, laps: Laps): void {
    this.rsaPrivate();
    laps.lap('rsa');
    this.aesGcm(bytes);
    laps.lap('aes');
  }
}
