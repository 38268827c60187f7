// POST /v1/chat/secure_completion: open the client's package with the server
// key, have the completion backend answer, seal the answer to the client's key.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CryptoBackend, PrivateKeyHandle, PublicKeyHandle, SealedFields, Secret } from '../crypto';
import { NomyoError } from '../errors';
import { HEADER_PAYLOAD_ID, HEADER_PUBLIC_KEY, HEADER_SECURITY_TIER, isSecurityTier, MAX_PLAINTEXT_BYTES } from '../protocol/constants';
import type { SecurityTier } from '../protocol/constants';
import { decodePackage, encodePackage, PackageError } from '../protocol/package';
import type { ChatCompletionRequest, CompletionBackend } from './completion-backends';
import { UpstreamError } from './completion-backends';
import { HttpError } from './http-error';
import { readRequestBody } from './request-body';
import { sendJson } from './responses';
import type { TpmAttestationBlock, TpmQuoter } from './tpm-quoter';

const MAX_PAYLOAD_ID_LENGTH = 128;
/** Visible ASCII only: the id is logged and echoed, so it must not carry control characters. */
const PAYLOAD_ID_PATTERN = /^[\x21-\x7e]+$/;
const MIN_CLIENT_KEY_BITS = 2048;
/** Sealing to a larger key would let one request buy a lot of server CPU. */
const MAX_CLIENT_KEY_BITS = 16384;
/** Echoes and upstream answers may be larger than requests; bounded all the same. */
export const MAX_RESPONSE_PLAINTEXT_BYTES = 4 * MAX_PLAINTEXT_BYTES;

const NO_TPM = Object.freeze({ is_available: false });
/** The whole 503 detail when a TPM is configured but its quote failed: no reasons for the client. */
const TPM_FAILED_DETAIL = 'TPM attestation failed';

export interface SecureCompletionContext {
  backend: CryptoBackend;
  serverKey: PrivateKeyHandle;
  completions: CompletionBackend;
  maxBodyBytes: number;
  /** True when the request carries the right API key, or none is configured. */
  authorized(req: IncomingMessage): boolean;
  /** Quotes for `_metadata.tpm_attestation`; absent when the server has no TPM. */
  tpm?: TpmQuoter;
}

/** What the request log may say about a request: ids, sizes, tier. Never content. */
export interface RequestFacts {
  payloadId?: string;
  tier?: SecurityTier;
  requestBytes?: number;
  responseBytes?: number;
  /** Whether the response carries a quote; absent without a TPM. */
  tpm?: 'quoted' | 'failed';
}

function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readPayloadId(req: IncomingMessage): string {
  const payloadId = singleHeader(req, HEADER_PAYLOAD_ID);
  if (payloadId === undefined || payloadId === '') throw new HttpError(400, 'the X-Payload-ID header is missing');
  if (payloadId.length > MAX_PAYLOAD_ID_LENGTH || !PAYLOAD_ID_PATTERN.test(payloadId)) {
    throw new HttpError(400, `X-Payload-ID must be 1 to ${MAX_PAYLOAD_ID_LENGTH} visible ASCII characters`);
  }
  return payloadId;
}

function readClientKey(backend: CryptoBackend, req: IncomingMessage): PublicKeyHandle {
  const encoded = singleHeader(req, HEADER_PUBLIC_KEY);
  if (encoded === undefined || encoded === '') throw new HttpError(400, 'the X-Public-Key header is missing');
  const refusal = `X-Public-Key must be a percent-encoded PEM (SubjectPublicKeyInfo) RSA public key of ${MIN_CLIENT_KEY_BITS} to ${MAX_CLIENT_KEY_BITS} bits`;
  let key: PublicKeyHandle;
  try {
    key = backend.importPublicKey(decodeURIComponent(encoded));
  } catch {
    throw new HttpError(400, refusal);
  }
  if (key.bits < MIN_CLIENT_KEY_BITS || key.bits > MAX_CLIENT_KEY_BITS) throw new HttpError(400, refusal);
  return key;
}

function readTier(req: IncomingMessage): SecurityTier | undefined {
  const tier = singleHeader(req, HEADER_SECURITY_TIER);
  if (tier === undefined) return undefined;
  if (!isSecurityTier(tier)) throw new HttpError(400, 'X-Security-Tier must be standard, high or maximum');
  return tier;
}

function decodeBody(body: Buffer): SealedFields {
  try {
    return decodePackage(body).fields;
  } catch (error) {
    if (error instanceof PackageError) throw new HttpError(400, `invalid package: ${error.message}`);
    throw error;
  }
}

async function openRequest(context: SecureCompletionContext, fields: SealedFields): Promise<ChatCompletionRequest> {
  let plaintext: Secret;
  try {
    plaintext = await context.backend.open(fields, context.serverKey);
  } catch (error) {
    // Clients take this answer as the hint to refetch a rotated server key.
    if (error instanceof NomyoError && error.code === 'NOMYO_DECRYPT_FAILED') {
      throw new HttpError(400, 'could not decrypt the payload with the server key');
    }
    throw error;
  }
  let request: unknown;
  try {
    request = context.backend.parseJson(plaintext);
  } catch (error) {
    if (error instanceof NomyoError && error.code === 'NOMYO_JSON_INVALID') {
      throw new HttpError(400, 'the decrypted payload is not valid JSON');
    }
    throw error;
  } finally {
    plaintext.dispose();
  }
  if (
    typeof request !== 'object' ||
    request === null ||
    Array.isArray(request) ||
    typeof (request as Record<string, unknown>).model !== 'string' ||
    !Array.isArray((request as Record<string, unknown>).messages)
  ) {
    throw new HttpError(400, 'the request must be a JSON object with model (a string) and messages (an array)');
  }
  return request as ChatCompletionRequest;
}

async function complete(
  context: SecureCompletionContext,
  request: ChatCompletionRequest,
  res: ServerResponse,
): Promise<Record<string, unknown>> {
  const clientGone = new AbortController();
  const onClose = (): void => clientGone.abort();
  res.once('close', onClose);
  try {
    return await context.completions.complete(request, clientGone.signal);
  } catch (error) {
    if (error instanceof UpstreamError) throw new HttpError(502, error.message);
    throw error;
  } finally {
    res.off('close', onClose);
  }
}

/**
 * The request's quote, or undefined when it failed. Never rejects: the caller
 * decides by tier what a failure means, and may not be waiting yet when it happens.
 */
function startQuote(tpm: TpmQuoter, payloadId: string, res: ServerResponse): Promise<TpmAttestationBlock | undefined> {
  const clientGone = new AbortController();
  const onClose = (): void => clientGone.abort();
  res.once('close', onClose);
  return tpm.quote(payloadId, clientGone.signal).then(
    (block) => block,
    // The quoter has logged why.
    () => undefined,
  ).finally(() => res.off('close', onClose));
}

async function sealResponse(backend: CryptoBackend, response: Record<string, unknown>, recipient: PublicKeyHandle): Promise<SealedFields> {
  let plaintext: Secret;
  try {
    plaintext = backend.serializeJson(response, MAX_RESPONSE_PLAINTEXT_BYTES);
  } catch (error) {
    if (error instanceof NomyoError && error.code === 'NOMYO_TOO_LARGE') {
      throw new HttpError(500, 'the completion is too large to send');
    }
    throw error;
  }
  try {
    return await backend.seal(plaintext, recipient);
  } finally {
    plaintext.dispose();
  }
}

export async function handleSecureCompletion(
  context: SecureCompletionContext,
  req: IncomingMessage,
  res: ServerResponse,
  facts: RequestFacts,
): Promise<void> {
  if (!context.authorized(req)) {
    throw new HttpError(401, 'a valid API key is required (Authorization: Bearer <key>)', { 'WWW-Authenticate': 'Bearer' });
  }
  const payloadId = readPayloadId(req);
  facts.payloadId = payloadId;
  const clientKey = readClientKey(context.backend, req);
  const tier = readTier(req);
  facts.tier = tier;
  if (tier === 'maximum' && !context.tpm) {
    throw new HttpError(503, 'the maximum security tier requires TPM attestation, which this server does not have');
  }

  const body = await readRequestBody(req, context.maxBodyBytes);
  facts.requestBytes = body.length;
  const request = await openRequest(context, decodeBody(body));

  // Quoting starts only once the package has opened, so malformed requests cost
  // no TPM time. For `maximum` the quote is a precondition: the plaintext reaches
  // the completion backend only once the quote exists. Other tiers quote while
  // the backend works, and a failed quote leaves them {"is_available": false}, as
  // on a server without a TPM (PROTOCOL.md's tier rule); a client that insists
  // on attestation refuses such an answer itself.
  const quoting = context.tpm ? startQuote(context.tpm, payloadId, res) : undefined;
  if (tier === 'maximum' && (await quoting) === undefined) {
    facts.tpm = 'failed';
    throw new HttpError(503, TPM_FAILED_DETAIL);
  }
  const completion = await complete(context, request, res);
  const quote = await quoting;
  if (quoting) facts.tpm = quote ? 'quoted' : 'failed';

  const processedAt = new Date().toISOString();
  const existingMetadata = completion._metadata;
  // The server's own facts come last so that an upstream cannot claim them.
  const response = {
    ...completion,
    _metadata: {
      ...(typeof existingMetadata === 'object' && existingMetadata !== null && !Array.isArray(existingMetadata) ? existingMetadata : {}),
      payload_id: payloadId,
      processed_at: processedAt,
      tpm_attestation: quote ?? NO_TPM,
    },
  };
  const sealed = await sealResponse(context.backend, response, clientKey);
  const answer = encodePackage(sealed, { payload_id: payloadId, processed_at: processedAt });
  facts.responseBytes = Buffer.byteLength(answer);
  sendJson(res, 200, answer);
}
