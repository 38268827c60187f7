// Peers for the client tests, all over real loopback HTTP(S) on port 0:
// - the reference server (lib/server), the real peer;
// - a recording proxy in front of it, to see exactly what the client sent;
// - a fault server that speaks the protocol itself (lib/protocol + a crypto
//   backend) so that a test can answer whatever the reference server never
//   would: tampered packages, arbitrary statuses, closed sockets, silence.
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { getBackend } from '../../../lib/crypto';
import type { CryptoBackend, PrivateKeyHandle, PublicKeyHandle, SealedFields } from '../../../lib/crypto';
import { publicKeyFingerprint } from '../../../lib/keys/fingerprint';
import { decodePackage, encodePackage } from '../../../lib/protocol/package';
import { startReferenceServer } from '../../../lib/server';
import type { ReferenceServer, ReferenceServerOptions } from '../../../lib/server';

export const KEY_PATH = '/pki/public_key';
export const COMPLETION_PATH = '/v1/chat/secure_completion';

/** The reference server with a 2048-bit key on a free port. */
export function startReference(options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  return startReferenceServer({ port: 0, keyBits: 2048, ...options });
}

/** One HTTP request as a server received it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function header(seen: SeenRequest, name: string): string | undefined {
  const value = seen.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export { header as headerOf };

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port that was free a moment ago and has nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ---------------------------------------------------------------------------
// Recording proxy

export interface RecordingProxy {
  readonly url: string;
  readonly requests: SeenRequest[];
  /** The answers, in the order their requests arrived (status and body). */
  readonly responses: Array<Promise<{ status: number; body: Buffer }>>;
  /** TCP connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Forwards every request to `target` unchanged and remembers it. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const requests: SeenRequest[] = [];
  const responses: RecordingProxy['responses'] = [];
  let connections = 0;
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const seen: SeenRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.alloc(0) };
    requests.push(seen);
    let answered: (answer: { status: number; body: Buffer }) => void = () => undefined;
    responses.push(new Promise((resolve) => (answered = resolve)));
    void readBody(req).then((body) => {
      seen.body = body;
      const upstream = http.request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: { ...req.headers, host: new URL(target).host }, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          void readBody(answer).then((answerBody) => {
            answered({ status: answer.statusCode ?? 0, body: answerBody });
            res.end(answerBody);
          });
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  server.on('connection', () => connections++);
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    responses,
    get connections() {
      return connections;
    },
    close: async () => {
      agent.destroy();
      await closeServer(server);
    },
  };
}

// ---------------------------------------------------------------------------
// Fault server

/** A decrypted request, as the fault server opened it. */
export interface OpenedRequest {
  payloadId: string;
  plaintext: Record<string, unknown>;
  clientKey: PublicKeyHandle;
  fields: SealedFields;
}

/** The package JSON as an object, for handlers to tamper with before sending. */
export type PackageObject = Record<string, unknown> & {
  encrypted_payload: Record<string, unknown>;
};

/** An OpenAI chat.completion echoing the last user message, as the reference server's echo backend does. */
export function echoCompletion(request: Record<string, unknown>): Record<string, unknown> {
  const messages = Array.isArray(request.messages) ? (request.messages as Array<Record<string, unknown>>) : [];
  const lastUser = messages.filter((message) => message.role === 'user').at(-1);
  const content = `echo: ${typeof lastUser?.content === 'string' ? lastUser.content : ''}`;
  return {
    id: `chatcmpl-${crypto.randomBytes(8).toString('hex')}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  };
}

/** One POST (or key GET) being answered by a handler. */
export class Exchange {
  constructor(
    readonly server: FaultServer,
    readonly seen: SeenRequest,
    readonly res: http.ServerResponse,
    /** 0 for the first POST the server received, 1 for the second, ... */
    readonly index: number,
  ) {}

  header(name: string): string | undefined {
    return header(this.seen, name);
  }

  /** Decrypts the request with the server key in force; records its plaintext. */
  async open(): Promise<OpenedRequest> {
    const payloadId = this.header('x-payload-id') ?? '';
    const clientKey = this.server.backend.importPublicKey(decodeURIComponent(this.header('x-public-key') ?? ''));
    const fields = decodePackage(this.seen.body).fields;
    const secret = await this.server.backend.open(fields, this.server.privateKey);
    try {
      const plaintext = this.server.backend.parseJson(secret) as Record<string, unknown>;
      this.server.plaintexts.push(plaintext);
      return { payloadId, plaintext, clientKey, fields };
    } finally {
      secret.dispose();
    }
  }

  /** Seals `completion` (any JSON value) to `recipient` and returns the package as an object. */
  async seal(completion: unknown, recipient: PublicKeyHandle, extra: Record<string, string | number> = {}): Promise<PackageObject> {
    const secret = this.server.backend.serializeJson(completion, 64 * 1024 * 1024);
    try {
      const fields = await this.server.backend.seal(secret, recipient);
      return JSON.parse(encodePackage(fields, extra)) as PackageObject;
    } finally {
      secret.dispose();
    }
  }

  /** Seals arbitrary bytes (not necessarily JSON) to `recipient`. */
  async sealBytes(bytes: Buffer, recipient: PublicKeyHandle, extra: Record<string, string | number> = {}): Promise<PackageObject> {
    const secret = this.server.backend.secretFromBytes(bytes);
    try {
      const fields = await this.server.backend.seal(secret, recipient);
      return JSON.parse(encodePackage(fields, extra)) as PackageObject;
    } finally {
      secret.dispose();
    }
  }

  /** The answer a correct server gives: the echo completion, sealed, with payload_id and processed_at. */
  async echoPackage(completion?: (request: Record<string, unknown>, opened: OpenedRequest) => unknown): Promise<PackageObject> {
    const opened = await this.open();
    const processedAt = new Date().toISOString();
    const body =
      completion?.(opened.plaintext, opened) ?? {
        ...echoCompletion(opened.plaintext),
        _metadata: { payload_id: opened.payloadId, processed_at: processedAt, tpm_attestation: { is_available: false } },
      };
    return this.seal(body, opened.clientKey, { payload_id: opened.payloadId, processed_at: processedAt });
  }

  send(status: number, body: string | Buffer | object, headers: Record<string, string> = {}): void {
    const bytes = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
    const contentType = typeof body === 'object' && !Buffer.isBuffer(body) ? 'application/json' : 'text/plain';
    this.res.writeHead(status, { 'Content-Type': contentType, ...headers, 'Content-Length': bytes.length });
    this.res.end(bytes);
  }

  sendPackage(pkg: object | string): void {
    this.send(200, typeof pkg === 'string' ? pkg : JSON.stringify(pkg), { 'Content-Type': 'application/json' });
  }

  /** `{"detail": ...}` with `status`, as the protocol's errors look. */
  sendError(status: number, detail: string, headers: Record<string, string> = {}): void {
    this.send(status, { detail }, headers);
  }

  /** Closes the TCP connection without an answer. */
  destroy(): void {
    this.res.socket?.destroy();
  }
}

export type Handler = (exchange: Exchange) => void | Promise<void>;

export interface FaultServerOptions {
  keyBits?: number;
  /** Answers POST /v1/chat/secure_completion; default: a correct echo answer. */
  onPost?: Handler;
  /** Answers GET /pki/public_key; default: the server's public key PEM. */
  onKey?: Handler;
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Backend of the server's own crypto; default: the process default. */
  secureMemory?: boolean;
}

export class FaultServer {
  readonly requests: SeenRequest[] = [];
  /** Request plaintexts the server decrypted, in order. */
  readonly plaintexts: Array<Record<string, unknown>> = [];
  connections = 0;
  onPost: Handler;
  onKey: Handler;
  #privateKey: PrivateKeyHandle;
  #posts = 0;
  #postListeners: Array<() => void> = [];

  private constructor(
    readonly backend: CryptoBackend,
    privateKey: PrivateKeyHandle,
    private readonly http: http.Server,
    readonly url: string,
    options: FaultServerOptions,
  ) {
    this.#privateKey = privateKey;
    this.onPost = options.onPost ?? (async (exchange) => exchange.sendPackage(await exchange.echoPackage()));
    this.onKey = options.onKey ?? ((exchange) => exchange.send(200, this.publicKeyPem, { 'Content-Type': 'text/plain' }));
  }

  static async start(options: FaultServerOptions = {}): Promise<FaultServer> {
    const backend = getBackend({ secureMemory: options.secureMemory });
    const privateKey = await backend.generateKeyPair(options.keyBits ?? 2048);
    const holder: { self?: FaultServer } = {};
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      void holder.self!.#handle(req, res);
    };
    const server = options.tls
      ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, onRequest)
      : http.createServer(onRequest);
    server.on(options.tls ? 'secureConnection' : 'connection', () => {
      if (holder.self) holder.self.connections++;
    });
    const port = await listen(server);
    holder.self = new FaultServer(backend, privateKey, server, `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, options);
    return holder.self;
  }

  get privateKey(): PrivateKeyHandle {
    return this.#privateKey;
  }

  get publicKeyPem(): string {
    return this.#privateKey.publicKeyPem();
  }

  get fingerprint(): string {
    return publicKeyFingerprint(this.publicKeyPem);
  }

  get posts(): SeenRequest[] {
    return this.requests.filter((seen) => seen.method === 'POST' && seen.path === COMPLETION_PATH);
  }

  get keyFetches(): SeenRequest[] {
    return this.requests.filter((seen) => seen.method === 'GET' && seen.path === KEY_PATH);
  }

  /** Resolves when the server has received `count` POSTs in all. */
  postsReceived(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#posts >= count) {
          this.#postListeners = this.#postListeners.filter((listener) => listener !== check);
          resolve();
        }
      };
      this.#postListeners.push(check);
      check();
    });
  }

  /** Replaces the server key, as a key rotation would; the old one is disposed. */
  async rotateKey(bits = 2048): Promise<void> {
    const old = this.#privateKey;
    this.#privateKey = await this.backend.generateKeyPair(bits);
    old.dispose();
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const seen: SeenRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
    this.requests.push(seen);
    try {
      if (seen.path === KEY_PATH && seen.method === 'GET') {
        await this.onKey(new Exchange(this, seen, res, this.keyFetches.length - 1));
      } else if (seen.path === COMPLETION_PATH && seen.method === 'POST') {
        const index = this.#posts++;
        for (const listener of [...this.#postListeners]) listener();
        await this.onPost(new Exchange(this, seen, res, index));
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"detail":"not found"}');
      }
    } catch (error) {
      // A handler bug must show up in the test, not as a hang.
      if (!res.headersSent) res.writeHead(599, { 'Content-Type': 'text/plain' }).end(`fault server handler failed: ${String(error)}`);
    }
  }

  async close(): Promise<void> {
    await closeServer(this.http);
    this.#privateKey.dispose();
  }
}

export function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  return FaultServer.start(options);
}

/** Flips one bit of a base64 field's decoded bytes (at `offset` from the start, default the middle). */
export function flipBase64Byte(value: unknown, offset?: number): string {
  const bytes = Buffer.from(String(value), 'base64');
  const at = offset ?? Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x01;
  return bytes.toString('base64');
}

