// The reference NOMYO server: the protocol's server side on the SDK's own crypto
// backend, for offline development and as the client tests' real peer.
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { getBackend } from '../crypto';
import { NomyoError } from '../errors';
import type { Logger } from '../logging';
import { resolveLogger } from '../logging';
import { describeMemoryFacts } from '../memory-protection';
import { COMPLETION_PATH, PUBLIC_KEY_PATH } from '../protocol/constants';
import { createApiKeyCheck } from './authorization';
import type { CompletionBackend } from './completion-backends';
import { createEchoBackend, createOpenAIBackend } from './completion-backends';
import { HttpError } from './http-error';
import { sendError, sendText } from './responses';
import type { RequestFacts, SecureCompletionContext } from './secure-completion';
import { handleSecureCompletion, MAX_RESPONSE_PLAINTEXT_BYTES } from './secure-completion';
import type { ServerKey } from './server-key';
import { DEFAULT_SERVER_KEY_BITS, generateServerKey, loadServerKey } from './server-key';
import { isTpmAikAlgorithm, TpmQuoter } from './tpm-quoter';
import type { TpmAikAlgorithm } from './tpm-quoter';

export const DEFAULT_REFERENCE_PORT = 12435;
/**
 * Room for the largest package a client sends: 10 MiB of plaintext is about
 * 13.4 MiB of base64 ciphertext, plus the wrapped key and the envelope.
 */
export const DEFAULT_MAX_BODY_BYTES = 15 * 1024 * 1024;
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 10 * 60 * 1000;
/** Slow senders lose their slot: headers must arrive quickly, the whole body within two minutes. */
const HEADERS_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 120_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** Parser-level failures, answered before any request object exists. */
const CLIENT_ERROR_ANSWERS: Readonly<Record<string, [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request was not received in time'],
};

export type CompletionBackendName = 'echo' | 'openai';

export interface ReferenceServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 12435; 0 picks any free port. */
  port?: number;
  /** PEM private key (mode 600); without it an RSA key is generated in memory at start. */
  privateKeyPath?: string;
  privateKeyPassword?: string;
  /** Size of a generated key; default 4096, at least 2048. */
  keyBits?: number;
  /** When set, requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Default 'echo'. */
  backend?: CompletionBackendName;
  /** Base URL of an OpenAI-compatible server, for the 'openai' backend. */
  upstreamUrl?: string;
  upstreamApiKey?: string;
  /** Default 10 minutes. */
  upstreamTimeoutMs?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Largest request body accepted; default 15 MiB, enough for a 10 MiB plaintext. */
  maxBodyBytes?: number;
  /** `false` runs on node:crypto instead of the native addon's locked memory. */
  secureMemory?: boolean;
  /**
   * A TCTI for tpm2-tools, e.g. 'device:/dev/tpmrm0' or 'swtpm:host=127.0.0.1,port=2321'.
   * Every answer then carries a quote from a fresh AIK, and `maximum` is served.
   * If a quote fails, `maximum` is answered 503 and other tiers get
   * `{"is_available": false}`. The server assumes it alone uses the TPM's transient
   * object slots: through a resource manager (/dev/tpmrm0) that holds anyway.
   */
  tpm?: string;
  /** The fresh AIK's algorithm: 'ecc' (P-256, default) or 'rsa' (2048 bits, far slower to make). */
  tpmAikAlgorithm?: TpmAikAlgorithm;
  logger?: Logger;
}

export interface ReferenceServer {
  /** e.g. 'http://127.0.0.1:12435'. */
  readonly url: string;
  readonly port: number;
  /** SubjectPublicKeyInfo PEM of the server key. */
  readonly publicKeyPem: string;
  /** 'sha256:<hex>' of the server key, for pinning. */
  readonly fingerprint: string;
  /** Stops accepting, closes idle keep-alive connections, waits for requests in flight. */
  close(): Promise<void>;
}

function invalidOption(message: string): NomyoError {
  return new NomyoError(message, 'NOMYO_INVALID_OPTION');
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw invalidOption(`${name} must be a positive integer`);
  return value;
}

function createCompletionBackend(options: ReferenceServerOptions): CompletionBackend {
  const name = options.backend ?? 'echo';
  if (name === 'echo') return createEchoBackend();
  if (name === 'openai') {
    if (!options.upstreamUrl) throw invalidOption("the 'openai' backend needs upstreamUrl");
    return createOpenAIBackend({
      upstreamUrl: options.upstreamUrl,
      upstreamApiKey: options.upstreamApiKey,
      timeoutMs: positiveInteger(options.upstreamTimeoutMs, DEFAULT_UPSTREAM_TIMEOUT_MS, 'upstreamTimeoutMs'),
      maxResponseBytes: MAX_RESPONSE_PLAINTEXT_BYTES,
    });
  }
  throw invalidOption("backend must be 'echo' or 'openai'");
}

function createAuthorization(apiKey: string | undefined): SecureCompletionContext['authorized'] {
  if (apiKey === undefined) return () => true;
  if (apiKey === '' || /\s/.test(apiKey)) throw invalidOption('apiKey must be a non-empty string without whitespace');
  const matches = createApiKeyCheck(apiKey);
  return (req) => matches(req.headers.authorization);
}

function checkTpmOptions(options: ReferenceServerOptions): { tcti: string; aikAlgorithm: TpmAikAlgorithm } | undefined {
  if (options.tpm === undefined) {
    if (options.tpmAikAlgorithm !== undefined) throw invalidOption('tpmAikAlgorithm needs tpm');
    return undefined;
  }
  // Visible ASCII only: the TCTI goes into the tools' environment and into the log.
  if (typeof options.tpm !== 'string' || !/^[\x21-\x7e]+$/.test(options.tpm)) {
    throw invalidOption("tpm must be a TCTI string, e.g. 'device:/dev/tpmrm0'");
  }
  const aikAlgorithm = options.tpmAikAlgorithm ?? 'ecc';
  if (!isTpmAikAlgorithm(aikAlgorithm)) throw invalidOption("tpmAikAlgorithm must be 'ecc' or 'rsa'");
  return { tcti: options.tpm, aikAlgorithm };
}

function pathOf(url: string | undefined): string {
  const path = url ?? '/';
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

function describeFailure(error: unknown): string {
  // Names and codes only: messages of unexpected errors could quote anything.
  if (error instanceof NomyoError) return `${error.name} ${error.code}`;
  return error instanceof Error ? error.name : typeof error;
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function formatUrl(secure: boolean, host: string, port: number): string {
  return `${secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startReferenceServer(options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  const logger = resolveLogger(options.logger);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_REFERENCE_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidOption('port must be an integer from 0 to 65535');
  const maxBodyBytes = positiveInteger(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes');
  const completions = createCompletionBackend(options);
  const authorized = createAuthorization(options.apiKey);
  const tpmOptions = checkTpmOptions(options);
  const backend = getBackend({ secureMemory: options.secureMemory });

  const protection = describeMemoryFacts(backend.memoryFacts());
  logger.info(`reference server: crypto backend ${backend.kind}, memory protection ${protection.method}`);
  if (options.secureMemory !== false && protection.method !== 'mlock') {
    logger.warn('reference server: secrets are not held in locked memory; see getMemoryProtectionInfo()');
  }

  // The TPM first: a server asked to attest must not start without it, and this is the quick check.
  const tpm = tpmOptions ? await TpmQuoter.start({ ...tpmOptions, logger }) : undefined;
  let serverKey: ServerKey;
  try {
    serverKey = options.privateKeyPath
      ? await loadServerKey(backend, options.privateKeyPath, options.privateKeyPassword)
      : await generateServerKey(backend, options.keyBits ?? DEFAULT_SERVER_KEY_BITS);
  } catch (error) {
    await tpm?.close();
    throw error;
  }
  logger.info(
    `reference server: server key ${serverKey.source === 'file' ? 'loaded from file' : 'generated in memory'}, ` +
      `RSA-${serverKey.bits}, fingerprint ${serverKey.fingerprint}`,
  );

  const context: SecureCompletionContext = { backend, serverKey: serverKey.handle, completions, maxBodyBytes, authorized, tpm };
  const inFlight = new Set<http.ServerResponse>();
  let closing: Promise<void> | undefined;

  async function route(req: http.IncomingMessage, res: http.ServerResponse, facts: RequestFacts): Promise<void> {
    const path = pathOf(req.url);
    if (path === PUBLIC_KEY_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed', { Allow: 'GET, HEAD' });
      sendText(res, 200, serverKey.publicKeyPem);
    } else if (path === COMPLETION_PATH) {
      if (req.method !== 'POST') throw new HttpError(405, 'method not allowed', { Allow: 'POST' });
      await handleSecureCompletion(context, req, res, facts);
    } else {
      throw new HttpError(404, 'not found');
    }
  }

  function logRequest(req: http.IncomingMessage, res: http.ServerResponse, facts: RequestFacts): void {
    const path = pathOf(req.url);
    const known = path === PUBLIC_KEY_PATH || path === COMPLETION_PATH;
    let line = `reference server: ${req.method ?? '?'} ${known ? path : '(unknown path)'} status=${res.statusCode}`;
    if (facts.payloadId !== undefined) line += ` payload_id=${facts.payloadId}`;
    if (facts.tier !== undefined) line += ` tier=${facts.tier}`;
    if (facts.requestBytes !== undefined) line += ` request_bytes=${facts.requestBytes}`;
    if (facts.responseBytes !== undefined) line += ` response_bytes=${facts.responseBytes}`;
    if (facts.tpm !== undefined) line += ` tpm=${facts.tpm}`;
    if (!res.writableFinished) line += ' (connection closed before the answer was sent)';
    logger.info(line);
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const facts: RequestFacts = {};
    inFlight.add(res);
    if (closing) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight.delete(res);
      logRequest(req, res, facts);
    });
    route(req, res, facts).catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendError(res, error.status, error.detail, { ...error.headers });
        return;
      }
      logger.error(`reference server: internal error (${describeFailure(error)})`);
      sendError(res, 500, 'internal error');
    });
  };

  const serverOptions: http.ServerOptions = {
    keepAlive: true,
    noDelay: true,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  };
  const server: http.Server = options.tls
    ? https.createServer({ ...serverOptions, key: options.tls.key, cert: options.tls.cert }, onRequest)
    : http.createServer(serverOptions, onRequest);
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, reason, detail] = CLIENT_ERROR_ANSWERS[error.code ?? ''] ?? [400, 'Bad Request', 'malformed HTTP request'];
    const body = JSON.stringify({ detail });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });

  try {
    await listen(server, port, host);
  } catch (error) {
    serverKey.handle.dispose();
    await tpm?.close();
    throw error;
  }
  const boundPort = (server.address() as AddressInfo).port;
  const url = formatUrl(options.tls !== undefined, host, boundPort);
  logger.info(`reference server: listening on ${url}`);

  return {
    url,
    port: boundPort,
    publicKeyPem: serverKey.publicKeyPem,
    fingerprint: serverKey.fingerprint,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        // Requests in flight finish, then their connections close instead of idling.
        for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
        server.close((error) => {
          serverKey.handle.dispose();
          // Requests have finished, so no quote is waiting; this removes the TPM's scratch files.
          void (tpm?.close() ?? Promise.resolve()).catch(() => undefined).then(() => {
            logger.info('reference server: closed');
            if (error) reject(error);
            else resolve();
          });
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
