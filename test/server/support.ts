// A small protocol client for the server tests: plain node:http plus the SDK's
// package codec and a crypto backend, independent of lib/client.
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { getBackend } from '../../lib/crypto';
import type { CryptoBackend, PrivateKeyHandle, PublicKeyHandle } from '../../lib/crypto';
import type { Logger } from '../../lib/logging';
import { decodePackage, encodePackage } from '../../lib/protocol/package';
import type { DecodedPackage } from '../../lib/protocol/package';
import type { ReferenceServer } from '../../lib/server';

export const backendChoices: Array<[string, boolean]> = [
  ['native', true],
  ['node-crypto', false],
];

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpCall {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Sends the body in chunks without a Content-Length. */
  chunked?: boolean;
  ca?: string;
}

export function httpCall(url: string, call: HttpCall = {}): Promise<HttpAnswer> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...call.headers };
    if (call.body !== undefined && !call.chunked) headers['Content-Length'] = Buffer.byteLength(call.body);
    const req = transport.request(target, { method: call.method ?? 'GET', headers, ca: call.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (call.body !== undefined && call.chunked) {
      const bytes = Buffer.from(call.body);
      const half = Math.floor(bytes.length / 2);
      req.write(bytes.subarray(0, half));
      req.end(bytes.subarray(half));
    } else {
      req.end(call.body);
    }
  });
}

export function detailOf(answer: HttpAnswer): string {
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const parsed = JSON.parse(answer.body) as unknown;
  expect(parsed).toEqual({ detail: expect.any(String) });
  return (parsed as { detail: string }).detail;
}

export interface SecureCallOptions {
  payloadId?: string;
  tier?: string;
  apiKey?: string;
  /** Replaces or removes (undefined) headers after the defaults are set. */
  headers?: Record<string, string | undefined>;
  /** Rewrites the package before it is sent. */
  tamper?: (packageJson: string) => string;
}

export interface SecureAnswer extends HttpAnswer {
  payloadId: string;
}

export interface OpenedAnswer {
  decoded: DecodedPackage;
  completion: {
    id: string;
    object: string;
    created: number;
    model: string;
    choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string }>;
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    _metadata: Record<string, unknown>;
  };
}

/** One client: its own key pair, the server's public key, and a backend. */
export class TestClient {
  private constructor(
    readonly server: ReferenceServer,
    readonly backend: CryptoBackend,
    private readonly key: PrivateKeyHandle,
    private readonly serverKey: PublicKeyHandle,
    private readonly ca?: string,
  ) {}

  static async create(server: ReferenceServer, options: { secureMemory?: boolean; ca?: string } = {}): Promise<TestClient> {
    const backend = getBackend({ secureMemory: options.secureMemory });
    const key = await backend.generateKeyPair(2048);
    const answer = await httpCall(`${server.url}/pki/public_key`, { ca: options.ca });
    expect(answer.status).toBe(200);
    return new TestClient(server, backend, key, backend.importPublicKey(answer.body), options.ca);
  }

  get publicKeyPem(): string {
    return this.key.publicKeyPem();
  }

  async seal(request: unknown): Promise<string> {
    const plaintext = this.backend.serializeJson(request, 16 * 1024 * 1024);
    try {
      return encodePackage(await this.backend.seal(plaintext, this.serverKey));
    } finally {
      plaintext.dispose();
    }
  }

  async post(request: unknown, options: SecureCallOptions = {}): Promise<SecureAnswer> {
    const payloadId = options.payloadId ?? crypto.randomUUID();
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'X-Payload-ID': payloadId,
      'X-Public-Key': encodeURIComponent(this.publicKeyPem),
    };
    if (options.tier !== undefined) headers['X-Security-Tier'] = options.tier;
    if (options.apiKey !== undefined) headers.Authorization = `Bearer ${options.apiKey}`;
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    }
    let body = await this.seal(request);
    if (options.tamper) body = options.tamper(body);
    const answer = await httpCall(`${this.server.url}/v1/chat/secure_completion`, { method: 'POST', headers, body, ca: this.ca });
    return { ...answer, payloadId };
  }

  async open(answer: HttpAnswer): Promise<OpenedAnswer> {
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const decoded = decodePackage(answer.body);
    const plaintext = await this.backend.open(decoded.fields, this.key);
    try {
      return { decoded, completion: this.backend.parseJson(plaintext) as OpenedAnswer['completion'] };
    } finally {
      plaintext.dispose();
    }
  }

  /** Posts and opens: the completion of a request that must succeed. */
  async complete(request: unknown, options: SecureCallOptions = {}): Promise<OpenedAnswer & { payloadId: string }> {
    const answer = await this.post(request, options);
    if (answer.status !== 200) throw new Error(`expected 200, got ${answer.status}: ${answer.body}`);
    return { ...(await this.open(answer)), payloadId: answer.payloadId };
  }

  dispose(): void {
    this.key.dispose();
  }
}

export function chat(content: unknown, model = 'test-model'): { model: string; messages: unknown[] } {
  return { model, messages: [{ role: 'user', content }] };
}

/** A logger that keeps every line, to check what the server says and never says. */
export function recordingLogger(): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  const keep = (message: string): void => {
    lines.push(message);
  };
  return { lines, logger: { debug: keep, info: keep, warn: keep, error: keep } };
}
