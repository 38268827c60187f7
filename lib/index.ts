// The public surface of nomyo. Everything not exported here is internal.
export { SecureChatCompletion } from './client/secure-chat-completion';
export { SecureResponse } from './client/secure-response';
export type { AttestationPolicy, CryptoOffload, SecureChatCompletionOptions } from './client/secure-chat-completion';
export type {
  ChatCompletion,
  ChatCompletionCreateParams,
  ChatMessage,
  RequestMemoryProtection,
  RequestOptions,
  ResponseMetadata,
} from './client/types';
export type { GenerateKeysOptions, LoadKeysOptions } from './keys/client-keys';
export {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AttestationError,
  AuthenticationError,
  ForbiddenError,
  InvalidRequestError,
  KeyError,
  NomyoError,
  RateLimitError,
  SecurityError,
  ServerError,
  ServiceUnavailableError,
} from './errors';
export { getMemoryProtectionInfo } from './memory-protection';
export type { MemoryProtectionInfo } from './memory-protection';
export type { Logger } from './logging';
export { SECURITY_TIERS } from './protocol/constants';
export type { SecurityTier } from './protocol/constants';
export { publicKeyFingerprint } from './keys/fingerprint';
export { verifyAttestation } from './attestation';
export type * from './attestation';
