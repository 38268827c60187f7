// The client: an OpenAI-style chat completion whose every request and response
// is end-to-end encrypted, and which says what it protected.
import * as crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { getBackend } from '../crypto';
import type { CryptoBackend, CryptoOffload, Exchange, Secret } from '../crypto';
import { verifyAttestation } from '../attestation';
import type { AttestationVerification } from '../attestation';
import { AttestationError, InvalidRequestError, NomyoError, SecurityError } from '../errors';
import { ClientKeys } from '../keys/client-keys';
import type { GenerateKeysOptions, LoadKeysOptions } from '../keys/client-keys';
import { normalizeFingerprint } from '../keys/fingerprint';
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../keys/key-files';
import { resolveLogger } from '../logging';
import type { Logger } from '../logging';
import { describeMemoryFacts } from '../memory-protection';
import {
  COMPLETION_PATH,
  DEFAULT_BASE_URL,
  HEADER_PAYLOAD_ID,
  HEADER_PUBLIC_KEY,
  HEADER_SECURITY_TIER,
  MAX_PLAINTEXT_BYTES,
  isSecurityTier,
} from '../protocol/constants';
import type { SecurityTier } from '../protocol/constants';
import { HttpTransport, checkUrlScheme } from '../transport/http-transport';
import { errorFromResponse } from '../transport/status-errors';
import { isRetryable, retryDelayMs, sleep } from './retry';
import { SecureResponse } from './secure-response';
import { onOwnTurn } from './turn-queue';
import { endpointUrl } from './endpoint-url';
import { ServerKeyCache } from './server-key';
import type { ServerKey } from './server-key';
import type {
  ChatCompletion,
  ChatCompletionCreateParams,
  RequestMemoryProtection,
  RequestOptions,
  ResponseMetadata,
} from './types';

export interface SecureChatCompletionOptions {
  /** Default 'https://api.nomyo.ai:12435'. */
  baseUrl?: string;
  apiKey?: string;
  /** Permit http:// URLs (local development only). */
  allowHttp?: boolean;
  /** Keep plaintext and AES keys in locked native memory (default true). */
  secureMemory?: boolean;
  /** Load the key pair from this folder if it holds one; otherwise generate it and save it there. */
  keyDir?: string;
  keyPassword?: string;
  /** Pin the server key: 'sha256:<hex of its SPKI DER>'. */
  serverKeyFingerprint?: string;
  /** Milliseconds per attempt (default 120000). */
  timeout?: number;
  /** Further attempts after connection errors, 429 and 503 (default 2). */
  maxRetries?: number;
  logger?: Logger;
  /** Extra trusted CA certificate(s), PEM, for HTTPS. */
  ca?: string | Buffer;
  /**
   * What to do with the server's TPM attestation: 'verify' (default) checks it
   * offline and attaches the result as `_metadata.tpm_attestation.verification`;
   * 'require' also refuses (AttestationError, reply wiped) a response whose
   * attestation is absent or fails; 'off' leaves it unchecked.
   */
  attestation?: AttestationPolicy;
  /** Known-good PCR values, shaped like `pcr_values`, that quotes must match. */
  pcrBaseline?: Record<string, Record<string, string>>;
  /** Attestation keys to accept: AIK fingerprints ('sha256:…') or `aik_pubkey_b64` strings. */
  trustedAikKeys?: string[];
  /**
   * Where responses are decrypted (the RSA private operation, ~4 ms). 'auto'
   * (default): off the JS thread, on the addon's crypto threads (one per CPU),
   * except a response of at most 64 KiB that arrives while no other is being
   * decrypted, which is decrypted on the JS thread (the round trip to another
   * thread would add more latency than it saves). 'always': every response
   * off the JS thread; the event loop never runs it.
   */
  cryptoOffload?: CryptoOffload;
}

export type AttestationPolicy = 'off' | 'verify' | 'require';
export type { CryptoOffload };
const CRYPTO_OFFLOADS: readonly CryptoOffload[] = ['auto', 'always'];
const ATTESTATION_POLICIES: readonly AttestationPolicy[] = ['off', 'verify', 'require'];

/** A decrypted response still in secret memory, and how to accept it. */
interface OpenedResponse {
  secret: Secret;
  /**
   * Checks the server's `_metadata` (sealed payload id, attestation policy) and
   * returns the client's `_metadata` merged over it; throws when a check fails.
   */
  accept(fromServer: unknown): ResponseMetadata;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const PARSE_INLINE_BYTES = 64 * 1024;
const DEFAULT_MAX_RETRIES = 2;
/** A 10 MiB plaintext is about 14 MiB of base64; leave room for the envelope. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
const CLIENT_FIELDS = ['security_tier', 'api_key', 'base_url'] as const;

export class SecureChatCompletion {
  readonly chat: { completions: { create: SecureChatCompletion['create'] } };
  /** Alias of create(), as in the Python client. */
  readonly acreate: SecureChatCompletion['create'];

  readonly #backend: CryptoBackend;
  readonly #logger: Logger;
  readonly #transport: HttpTransport;
  readonly #keys: ClientKeys;
  readonly #serverKeys: ServerKeyCache;
  readonly #baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #allowHttp: boolean;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #keyDir: string | undefined;
  readonly #keyPassword: string | undefined;
  readonly #attestation: AttestationPolicy;
  readonly #cryptoOffload: CryptoOffload;
  readonly #pcrBaseline: Record<string, Record<string, string>> | undefined;
  readonly #trustedAikKeys: string[] | undefined;
  #keyDirReady: Promise<void> | undefined;
  #closed = false;

  constructor(options: SecureChatCompletionOptions = {}) {
    this.#backend = getBackend({ secureMemory: options.secureMemory ?? true });
    this.#logger = resolveLogger(options.logger);
    this.#baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
    this.#allowHttp = options.allowHttp ?? false;
    checkUrlScheme(parseBaseUrl(this.#baseUrl), this.#allowHttp);
    if (options.apiKey !== undefined) checkApiKey(options.apiKey);
    this.#apiKey = options.apiKey;
    this.#timeoutMs = positiveOr(options.timeout, DEFAULT_TIMEOUT_MS, 'timeout');
    this.#maxRetries = nonNegativeIntegerOr(options.maxRetries, DEFAULT_MAX_RETRIES, 'maxRetries');
    this.#keyDir = options.keyDir;
    this.#keyPassword = options.keyPassword;
    this.#attestation = options.attestation ?? 'verify';
    if (!ATTESTATION_POLICIES.includes(this.#attestation)) {
      throw new InvalidRequestError("attestation must be 'off', 'verify' or 'require'");
    }
    this.#cryptoOffload = options.cryptoOffload ?? 'auto';
    if (!CRYPTO_OFFLOADS.includes(this.#cryptoOffload)) {
      throw new InvalidRequestError("cryptoOffload must be 'auto' or 'always'");
    }
    this.#pcrBaseline = options.pcrBaseline;
    this.#trustedAikKeys = options.trustedAikKeys;
    const pin = options.serverKeyFingerprint !== undefined ? normalizeFingerprint(options.serverKeyFingerprint) : undefined;
    this.#transport = new HttpTransport({
      allowHttp: this.#allowHttp,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
    this.#keys = new ClientKeys(this.#backend, this.#logger);
    this.#serverKeys = new ServerKeyCache(this.#backend, this.#transport, this.#logger, pin, this.#timeoutMs);
    this.acreate = this.create.bind(this);
    this.chat = { completions: { create: this.create.bind(this) } };
    const protection = describeMemoryFacts(this.#backend.memoryFacts());
    this.#logger.debug(`client ready: backend ${this.#backend.kind}, memory protection ${protection.method}`);
  }

  /** Sends one encrypted chat completion and returns the decrypted answer as a plain object. */
  async create(params: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatCompletion> {
    const opened = await this.#exchange(params, options);
    let metadata: ResponseMetadata | undefined;
    let completion: unknown;
    try {
      // Under 'require', a reply whose attestation fails must never become a JS
      // object: check it in locked memory first. Otherwise one parse serves all.
      const parse = (): unknown => {
        if (this.#attestation === 'require') metadata = opened.accept(this.#backend.parseJsonAt(opened.secret, ['_metadata']));
        return this.#backend.consumeJson(opened.secret);
      };
      // Small responses parse at once; large ones each get a loop iteration of their own.
      completion = opened.secret.byteLength <= PARSE_INLINE_BYTES ? parse() : await onOwnTurn(parse);
    } catch (error) {
      if (error instanceof SecurityError) throw error;
      throw new SecurityError('the decrypted response is not valid JSON', 'NOMYO_BAD_RESPONSE');
    } finally {
      opened.secret.dispose();
    }
    if (typeof completion !== 'object' || completion === null || Array.isArray(completion)) {
      throw new SecurityError('the decrypted response is not a JSON object', 'NOMYO_BAD_RESPONSE');
    }
    const result = completion as ChatCompletion;
    result._metadata = metadata ?? opened.accept(result._metadata);
    return result;
  }

  /**
   * Like create(), but the decrypted response stays in locked memory: read the
   * message content through the returned SecureResponse, then dispose() it.
   */
  async createSecure(params: ChatCompletionCreateParams, options?: RequestOptions): Promise<SecureResponse> {
    const opened = await this.#exchange(params, options);
    try {
      if (this.#backend.jsonTypeAt(opened.secret, []) !== 'object') {
        throw new SecurityError('the decrypted response is not a JSON object', 'NOMYO_BAD_RESPONSE');
      }
      const metadata = opened.accept(this.#backend.parseJsonAt(opened.secret, ['_metadata']));
      return new SecureResponse(this.#backend, opened.secret, metadata);
    } catch (error) {
      opened.secret.dispose();
      throw error;
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new NomyoError('the client was closed', 'NOMYO_CLIENT_CLOSED');
  }

  async #exchange(params: ChatCompletionCreateParams, options: RequestOptions | null | undefined): Promise<OpenedResponse> {
    this.#checkOpen();
    const { request, baseUrl, apiKey, tier } = readParams(params);
    checkUrlScheme(parseBaseUrl(baseUrl ?? this.#baseUrl), this.#allowHttp);
    const key = apiKey ?? this.#apiKey;
    if (key !== undefined) checkApiKey(key);
    const { timeout, signal } = readOptions(options);
    const timeoutMs = positiveOr(timeout, this.#timeoutMs, 'timeout');

    const plaintext = this.#backend.serializeJson(request, MAX_PLAINTEXT_BYTES);
    const exchange = this.#backend.beginExchange();
    try {
      this.#logger.debug(`request serialized: ${plaintext.byteLength} bytes, ${plaintext.locked ? 'locked' : 'not locked'}`);
      return await this.#send(plaintext, { baseUrl: baseUrl ?? this.#baseUrl, apiKey: key, tier, timeoutMs, signal, exchange });
    } finally {
      exchange.end();
      plaintext.dispose();
    }
  }

  async #send(
    plaintext: Secret,
    ctx: {
      baseUrl: string;
      apiKey: string | undefined;
      tier: SecurityTier | undefined;
      timeoutMs: number;
      signal: AbortSignal | undefined;
      exchange: Exchange;
    },
  ): Promise<OpenedResponse> {
    const keys = await this.#clientKeys();
    let refreshedServerKey = false;
    for (let attempt = 0; ; attempt++) {
      // Every attempt is sealed afresh: new payload id, AES key and nonce.
      const payloadId = crypto.randomUUID();
      let serverKey: ServerKey;
      try {
        serverKey = await this.#serverKeys.get(ctx.baseUrl, ctx.signal);
      } catch (error) {
        // The key fetch is retried like the request: connection errors, 429, 503.
        await this.#beforeRetry(attempt, error, payloadId, ctx.signal);
        continue;
      }
      const body = await this.#backend.sealPackage(plaintext, serverKey.key);
      const headers: Record<string, string> = {
        'content-type': 'application/octet-stream',
        accept: 'application/json',
        [HEADER_PAYLOAD_ID]: payloadId,
        [HEADER_PUBLIC_KEY]: encodeURIComponent(keys.publicKeyPem),
      };
      if (ctx.apiKey !== undefined) headers.authorization = `Bearer ${ctx.apiKey}`;
      if (ctx.tier !== undefined) headers[HEADER_SECURITY_TIER] = ctx.tier;
      this.#logger.debug(
        `sending ${payloadId}: attempt ${attempt + 1}, tier ${ctx.tier ?? 'default'}, ${plaintext.byteLength} plaintext bytes`,
      );

      let response;
      try {
        response = await this.#transport.request({
          method: 'POST',
          url: endpointUrl(ctx.baseUrl, COMPLETION_PATH),
          headers,
          body,
          timeoutMs: ctx.timeoutMs,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
      } catch (error) {
        await this.#beforeRetry(attempt, error, payloadId, ctx.signal);
        continue;
      }

      if (response.status === 200) {
        return this.#openResponse(response.body, payloadId, keys.privateKey, ctx, plaintext);
      }
      const error = errorFromResponse(response.status, response.headers, response.body);
      if (response.status === 400 && !refreshedServerKey && !this.#serverKeys.pinned && mentionsDecrypt(error.details)) {
        // The server could not open our package: its key may have rotated.
        this.#logger.info(`server could not decrypt ${payloadId}; fetching its key again and retrying once`);
        refreshedServerKey = true;
        this.#serverKeys.invalidate(ctx.baseUrl);
        attempt--;
        continue;
      }
      await this.#beforeRetry(attempt, error, payloadId, ctx.signal);
    }
  }

  async #beforeRetry(attempt: number, error: unknown, payloadId: string, signal: AbortSignal | undefined): Promise<void> {
    if (!isRetryable(error) || attempt >= this.#maxRetries) throw error;
    const delay = retryDelayMs(attempt, error);
    this.#logger.info(`${payloadId} failed (${(error as Error).name}); retrying in ${Math.round(delay)} ms`);
    await sleep(delay, signal);
  }

  async #openResponse(
    body: Buffer,
    payloadId: string,
    privateKey: Parameters<CryptoBackend['open']>[1],
    ctx: { tier: SecurityTier | undefined; exchange: Exchange },
    requestPlaintext: Secret,
  ): Promise<OpenedResponse> {
    const pkg = await this.#backend.openPackage(body, privateKey, { offload: this.#cryptoOffload, exchange: ctx.exchange });
    const secret = pkg.secret;
    if (pkg.payloadId !== undefined && pkg.payloadId !== payloadId) {
      secret.dispose();
      throw new SecurityError('the response answers another request (payload_id differs)', 'NOMYO_PAYLOAD_ID_MISMATCH');
    }
    const protection = protectionOf(this.#backend, requestPlaintext, secret);
    this.#logger.debug(`response for ${payloadId} decrypted: ${secret.byteLength} bytes`);
    return {
      secret,
      accept: (fromServer: unknown): ResponseMetadata => {
        const serverMetadata = isRecord(fromServer) ? fromServer : {};
        // The envelope's payload_id is not sealed; the one inside is. A replayed
        // answer to another request names that request here.
        if (serverMetadata.payload_id !== undefined && serverMetadata.payload_id !== payloadId) {
          throw new SecurityError('the response answers another request (payload_id differs)', 'NOMYO_PAYLOAD_ID_MISMATCH');
        }
        const verification = this.#checkAttestation(serverMetadata.tpm_attestation, payloadId);
        return {
          ...withVerification(serverMetadata, verification),
          payload_id: payloadId,
          ...(pkg.processedAt !== undefined ? { processed_at: pkg.processedAt } : {}),
          is_encrypted: true,
          encryption_algorithm: pkg.algorithm,
          security_tier: ctx.tier ?? null,
          memory_protection: protection,
        };
      },
    };
  }

  /** Verifies `_metadata.tpm_attestation` as the policy says; throws AttestationError under 'require'. */
  #checkAttestation(block: unknown, payloadId: string): AttestationVerification | undefined {
    if (this.#attestation === 'off') return undefined;
    const verification =
      block === undefined
        ? undefined
        : verifyAttestation(block, {
            payloadId,
            ...(this.#pcrBaseline !== undefined ? { baseline: this.#pcrBaseline } : {}),
            ...(this.#trustedAikKeys !== undefined ? { trustedAikKeys: this.#trustedAikKeys } : {}),
          });
    const verdict = verification === undefined ? 'absent' : verification.verified ? 'verified' : `failed (${verification.failure})`;
    this.#logger.info(`attestation for ${payloadId}: ${verdict}`);
    if (this.#attestation === 'require' && verification?.verified !== true) {
      throw new AttestationError(`TPM attestation is required and was ${verdict}`, 'NOMYO_ATTESTATION_FAILED');
    }
    return verification;
  }

  async #clientKeys(): ReturnType<ClientKeys['get']> {
    if (this.#keyDir !== undefined) {
      this.#keyDirReady ??= this.#useKeyDir(this.#keyDir).catch((error: unknown) => {
        this.#keyDirReady = undefined;
        throw error;
      });
      await this.#keyDirReady;
    }
    return this.#keys.get();
  }

  async #useKeyDir(dir: string): Promise<void> {
    const privatePath = path.join(dir, PRIVATE_KEY_FILE);
    const publicPath = path.join(dir, PUBLIC_KEY_FILE);
    if (existsSync(privatePath)) {
      await this.#keys.load(privatePath, existsSync(publicPath) ? publicPath : undefined, {
        ...(this.#keyPassword !== undefined ? { password: this.#keyPassword } : {}),
      });
    } else {
      await this.#keys.generate({
        saveToFile: true,
        keyDir: dir,
        ...(this.#keyPassword !== undefined ? { password: this.#keyPassword } : {}),
      });
    }
  }

  /** Generates a new RSA-4096 key pair for this client, optionally saving it. */
  async generateKeys(options: GenerateKeysOptions = {}): Promise<void> {
    this.#checkOpen();
    await this.#keys.generate(options);
  }

  /** Loads the client's key pair from PEM files (PKCS#8 or traditional, with or without password). */
  async loadKeys(privateKeyPath: string, publicKeyPath?: string, options: LoadKeysOptions = {}): Promise<void> {
    this.#checkOpen();
    await this.#keys.load(privateKeyPath, publicKeyPath, options);
  }

  /** The server key's fingerprint, 'sha256:…', to pin with serverKeyFingerprint. */
  async serverKeyFingerprint(): Promise<string> {
    this.#checkOpen();
    return (await this.#serverKeys.get(this.#baseUrl)).fingerprint;
  }

  /**
   * Wipes the client's private key and closes kept-alive connections. The
   * client cannot be used afterwards (NOMYO_CLIENT_CLOSED).
   */
  close(): void {
    this.#closed = true;
    this.#keys.dispose();
    this.#transport.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Splits the caller's parameters into the encrypted request and the client's
 * own fields (headers and URL). The copy is shallow: no string of the caller's
 * is duplicated. Whatever reading them throws (a revoked Proxy, a getter) is
 * raised as InvalidRequestError, with the original as its cause.
 */
function readParams(params: unknown): {
  request: Record<string, unknown>;
  baseUrl: string | undefined;
  apiKey: string | undefined;
  tier: SecurityTier | undefined;
} {
  let request: Record<string, unknown>;
  try {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new InvalidRequestError('create() takes an object of chat-completion parameters', undefined, undefined, 'NOMYO_BAD_PARAMS');
    }
    request = { ...(params as Record<string, unknown>) };
  } catch (error) {
    if (error instanceof NomyoError) throw error;
    throw new InvalidRequestError('create() could not read its parameters', undefined, undefined, 'NOMYO_BAD_PARAMS', { cause: error });
  }
  const { security_tier: tier, api_key: apiKey, base_url: baseUrl } = request;
  for (const field of CLIENT_FIELDS) delete request[field];
  if (tier !== undefined && !isSecurityTier(tier)) {
    throw new InvalidRequestError("security_tier must be 'standard', 'high' or 'maximum'", undefined, undefined, 'NOMYO_BAD_TIER');
  }
  if (baseUrl !== undefined && typeof baseUrl !== 'string') {
    throw new InvalidRequestError('base_url must be a string', undefined, undefined, 'NOMYO_BAD_URL');
  }
  if (apiKey !== undefined && typeof apiKey !== 'string') {
    throw new InvalidRequestError('api_key must be a string', undefined, undefined, 'NOMYO_BAD_API_KEY');
  }
  return { request, baseUrl, apiKey, tier };
}

/** The per-call options, checked: a signal must be an AbortSignal, not anything with `aborted`. */
function readOptions(options: RequestOptions | null | undefined): RequestOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new InvalidRequestError('the options of create() must be an object', undefined, undefined, 'NOMYO_BAD_OPTION');
  }
  const { signal, timeout } = options;
  if (
    signal !== undefined &&
    (typeof signal !== 'object' ||
      signal === null ||
      typeof signal.aborted !== 'boolean' ||
      typeof signal.addEventListener !== 'function' ||
      typeof signal.removeEventListener !== 'function')
  ) {
    throw new InvalidRequestError('options.signal must be an AbortSignal', undefined, undefined, 'NOMYO_BAD_OPTION');
  }
  return { ...(signal !== undefined ? { signal } : {}), ...(timeout !== undefined ? { timeout } : {}) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What this request's and this response's plaintext really had, from the secrets themselves. */
function protectionOf(backend: CryptoBackend, request: Secret, response: Secret): RequestMemoryProtection {
  const nativeAddon = backend.kind === 'native';
  return {
    native_addon: nativeAddon,
    method: !nativeAddon ? 'none' : request.locked && response.locked ? 'mlock' : 'wipe-only',
    request_plaintext_locked: request.locked,
    response_plaintext_locked: response.locked,
    request_plaintext_locked_bytes: request.lockedBytes,
    request_plaintext_bytes: request.byteLength,
    response_plaintext_locked_bytes: response.lockedBytes,
    response_plaintext_bytes: response.byteLength,
    core_dump_excluded: request.dumpExcluded && response.dumpExcluded,
    plaintext_wiped: nativeAddon,
    returned_object: 'caller-owned',
  };
}

/** The server's _metadata with the verification attached to its tpm_attestation block. */
function withVerification(fromServer: Record<string, unknown>, verification: AttestationVerification | undefined): Record<string, unknown> {
  const metadata = { ...fromServer };
  const block = metadata.tpm_attestation;
  if (verification !== undefined && typeof block === 'object' && block !== null && !Array.isArray(block)) {
    metadata.tpm_attestation = { ...(block as Record<string, unknown>), verification };
  }
  return metadata;
}

/** An API key goes into a header: control characters would be refused by Node mid-request. */
function checkApiKey(apiKey: string): void {
  if (typeof apiKey !== 'string' || apiKey === '' || /[^\x21-\x7e]/.test(apiKey)) {
    throw new InvalidRequestError('the API key must be non-empty printable ASCII without spaces', undefined, undefined, 'NOMYO_BAD_API_KEY');
  }
}

function parseBaseUrl(baseUrl: string): URL {
  try {
    return new URL(baseUrl);
  } catch {
    throw new InvalidRequestError('baseUrl is not a valid URL', undefined, undefined, 'NOMYO_BAD_URL');
  }
}

function mentionsDecrypt(detail: unknown): boolean {
  return typeof detail === 'string' && /decrypt/i.test(detail);
}

function positiveOr(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new InvalidRequestError(`${name} must be a positive number of milliseconds`);
  return value;
}

function nonNegativeIntegerOr(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new InvalidRequestError(`${name} must be a non-negative integer`);
  return value;
}
