// The SDK's own request and response paths, stage by stage, as
// SecureChatCompletion runs them (lib/client/secure-chat-completion.ts), minus
// the network, headers and logging: object → package bytes, and package bytes
// → object.
import type { Laps } from './measure';
import { sdkConstants, sdkPackage } from './sdk';
import type { CryptoBackend, PrivateKeyHandle, PublicKeyHandle } from './sdk';

const CLIENT_FIELDS = ['security_tier', 'api_key', 'base_url'];

/**
 * serializeJson → seal → encodePackage → UTF-8 bytes. The last stage is what
 * the HTTP transport's socket write does with the body string (it also takes
 * Buffer.byteLength of it for Content-Length).
 */
export async function sdkSeal(backend: CryptoBackend, params: Record<string, unknown>, recipient: PublicKeyHandle, laps: Laps): Promise<Buffer> {
  const request: Record<string, unknown> = { ...params };
  for (const name of CLIENT_FIELDS) delete request[name];
  const plaintext = backend.serializeJson(request, sdkConstants.MAX_PLAINTEXT_BYTES);
  laps.lap('serializeJson');
  try {
    const fields = await backend.seal(plaintext, recipient);
    laps.lap('seal');
    const body = sdkPackage.encodePackage(fields);
    laps.lap('encodePackage');
    const bytes = Buffer.from(body, 'utf8');
    laps.lap('toBytes');
    return bytes;
  } finally {
    plaintext.dispose();
    laps.lap('dispose');
  }
}

/**
 * decodePackage → open → the client's checks → parseJson, as create() does with
 * a 200 body: the sealed _metadata.payload_id and _metadata.tpm_attestation are
 * looked up in the secret (attestation policy 'verify', the default), and the
 * memory facts are read for _metadata.memory_protection.
 */
export async function sdkOpen(backend: CryptoBackend, body: Buffer, key: PrivateKeyHandle, laps: Laps): Promise<unknown> {
  const pkg = sdkPackage.decodePackage(body);
  laps.lap('decodePackage');
  const secret = await backend.open(pkg.fields, key);
  laps.lap('open');
  try {
    backend.parseJsonAt(secret, ['_metadata', 'payload_id']);
    backend.parseJsonAt(secret, ['_metadata', 'tpm_attestation']);
    laps.lap('checks');
    backend.memoryFacts();
    laps.lap('memoryFacts');
    const value = backend.parseJson(secret);
    laps.lap('parseJson');
    return value;
  } finally {
    secret.dispose();
    laps.lap('dispose');
  }
}
