// The baseline: the protocol done the obvious way with node:crypto and nothing
// else. JSON.stringify the request, AES-256-GCM it with createCipheriv, wrap the
// key with publicEncrypt (OAEP-SHA256), JSON.stringify the package; the mirror
// for responses; node:http with a keep-alive agent for round trips.
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { Laps } from './measure';

const OAEP = { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

/** Request object → the package body as bytes ready for the socket. */
export function plainSeal(value: unknown, recipient: crypto.KeyObject, laps?: Laps, extra: Record<string, string> = {}): Buffer {
  const plaintext = Buffer.from(JSON.stringify(value), 'utf8');
  laps?.lap('serialize');
  const aesKey = crypto.randomBytes(32);
  const nonce = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', aesKey, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  laps?.lap('aes');
  const wrapped = crypto.publicEncrypt({ key: recipient, ...OAEP }, aesKey);
  laps?.lap('rsa');
  const pkg = {
    version: '1.0',
    algorithm: 'hybrid-aes256-rsa4096',
    encrypted_payload: {
      ciphertext: ciphertext.toString('base64'),
      nonce: nonce.toString('base64'),
      tag: tag.toString('base64'),
    },
    encrypted_aes_key: wrapped.toString('base64'),
    key_algorithm: 'RSA-OAEP-SHA256',
    payload_algorithm: 'AES-256-GCM',
    ...extra,
  };
  laps?.lap('base64');
  const body = Buffer.from(JSON.stringify(pkg), 'utf8');
  laps?.lap('assemble');
  return body;
}

function field(record: unknown, name: string): string {
  const value = (record as Record<string, unknown> | null)?.[name];
  if (typeof value !== 'string') throw new Error(`the package lacks ${name}`);
  return value;
}

/** Package body bytes → the response object. */
export function plainOpen(body: Buffer, key: crypto.KeyObject, laps?: Laps): unknown {
  const pkg = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  laps?.lap('decodePackage');
  const payload = pkg.encrypted_payload;
  const ciphertext = Buffer.from(field(payload, 'ciphertext'), 'base64');
  const nonce = Buffer.from(field(payload, 'nonce'), 'base64');
  const tag = Buffer.from(field(payload, 'tag'), 'base64');
  const wrapped = Buffer.from(field(pkg, 'encrypted_aes_key'), 'base64');
  laps?.lap('base64');
  const aesKey = crypto.privateDecrypt({ key, ...OAEP }, wrapped);
  laps?.lap('rsa');
  const decipher = crypto.createDecipheriv('aes-256-gcm', aesKey, nonce);
  decipher.setAuthTag(tag);
  const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  laps?.lap('aes');
  const value = JSON.parse(plaintext.toString('utf8')) as unknown;
  laps?.lap('parse');
  return value;
}

/** A complete plain client for round trips against the reference server. */
export class PlainHttpClient {
  readonly #agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  readonly #base: URL;
  readonly #privateKey: crypto.KeyObject;
  readonly #publicKeyHeader: string;
  #serverKey: crypto.KeyObject | undefined;

  constructor(baseUrl: string, privateKey: crypto.KeyObject) {
    this.#base = new URL(baseUrl);
    this.#privateKey = privateKey;
    const pem = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    this.#publicKeyHeader = encodeURIComponent(pem);
  }

  async create(request: unknown): Promise<Record<string, unknown>> {
    this.#serverKey ??= crypto.createPublicKey((await this.#send('GET', '/pki/public_key')).body.toString('utf8'));
    const payloadId = crypto.randomUUID();
    const body = plainSeal(request, this.#serverKey);
    const response = await this.#send('POST', '/v1/chat/secure_completion', body, {
      'content-type': 'application/octet-stream',
      accept: 'application/json',
      'x-payload-id': payloadId,
      'x-public-key': this.#publicKeyHeader,
    });
    if (response.status !== 200) throw new Error(`plain client: HTTP ${response.status}`);
    const completion = plainOpen(response.body, this.#privateKey) as Record<string, unknown>;
    const metadata = completion._metadata as Record<string, unknown> | undefined;
    if (metadata?.payload_id !== payloadId) throw new Error('plain client: the response answers another request');
    return completion;
  }

  #send(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const outgoing = http.request(
        new URL(path, this.#base),
        { method, agent: this.#agent, headers: body ? { ...headers, 'content-length': String(body.length) } : headers },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks) }));
          incoming.on('error', reject);
        },
      );
      outgoing.setNoDelay(true);
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
