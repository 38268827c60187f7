// The SDK's own request and response paths, stage by stage, as
// SecureChatCompletion runs them (lib/client/secure-chat-completion.ts), minus
// the network, headers and logging: object → package bytes, and package bytes
// → object.
import type { Laps } from './measure';
import { sdkConstants, sdkTurnQueue } from './sdk';
import type { CryptoBackend, Exchange, PrivateKeyHandle, PublicKeyHandle } from './sdk';

const CLIENT_FIELDS = ['security_tier', 'api_key', 'base_url'];

/**
 * serializeJson → sealPackage, which returns the body as bytes ready for the
 * socket (natively: base64 written slice by slice into one buffer).
 */
export async function sdkSeal(backend: CryptoBackend, params: Record<string, unknown>, recipient: PublicKeyHandle, laps: Laps): Promise<Buffer> {
  const request: Record<string, unknown> = { ...params };
  for (const name of CLIENT_FIELDS) delete request[name];
  const plaintext = backend.serializeJson(request, sdkConstants.MAX_PLAINTEXT_BYTES);
  laps.lap('serializeJson');
  try {
    const body = await backend.sealPackage(plaintext, recipient);
    laps.lap('sealPackage');
    return body;
  } finally {
    plaintext.dispose();
    laps.lap('dispose');
  }
}

/**
 * openPackage (as create() calls it, with the exchange the body answers) → consumeJson (parse, then
 * wipe and dispose, as create() does), then the client's checks on the parsed
 * _metadata (sealed payload_id; attestation under the default policy 'verify'),
 * as create() does with a 200 body.
 */
export async function sdkOpen(backend: CryptoBackend, body: Buffer, key: PrivateKeyHandle, laps: Laps, exchange: Exchange): Promise<unknown> {
  const { secret } = await backend.openPackage(body, key, { exchange });
  laps.lap('openPackage');
  try {
    // As create(): a large response is parsed in an event-loop iteration of its own.
    const parse = (): { _metadata?: { payload_id?: unknown } } => backend.consumeJson(secret) as { _metadata?: { payload_id?: unknown } };
    const value = secret.byteLength <= 64 * 1024 ? parse() : await sdkTurnQueue.onOwnTurn(parse);
    laps.lap('consumeJson');
    void value._metadata?.payload_id;
    laps.lap('checks');
    return value;
  } finally {
    secret.dispose();
    laps.lap('dispose');
  }
}

/** Runs `work` as create() runs one exchange: counted as in flight from before the seal to after the open. */
export async function asExchange<T>(backend: CryptoBackend, work: (exchange: Exchange) => Promise<T>): Promise<T> {
  const exchange = backend.beginExchange();
  try {
    return await work(exchange);
  } finally {
    exchange.end();
  }
}
