// Response packages as the reference server sends them: a chat.completion sealed
// to the client's public key, with payload_id and processed_at beside it.
import type * as crypto from 'node:crypto';
import { chatCompletion } from './payloads';
import { plainSeal } from './plain-client';

export function responseBody(bytes: number, clientPublicKey: crypto.KeyObject, seed = 11): Buffer {
  return plainSeal(chatCompletion(bytes, seed), clientPublicKey, undefined, {
    payload_id: 'bench',
    processed_at: '2024-01-01T00:00:00.000Z',
  });
}
