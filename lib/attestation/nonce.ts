// The quote's qualifying data, as PROTOCOL.md defines it: the first 16 bytes of
// SHA-256 over the request's X-Payload-ID string in UTF-8.
import { createHash } from 'node:crypto';

export const NONCE_BYTES = 16;

export function attestationNonce(payloadId: string): Buffer {
  return createHash('sha256').update(payloadId, 'utf8').digest().subarray(0, NONCE_BYTES);
}
