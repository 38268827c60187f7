// Fixed values of the NOMYO secure-completion protocol, version 1.0.

export const PROTOCOL_VERSION = '1.0';
export const PACKAGE_ALGORITHM = 'hybrid-aes256-rsa4096';
export const KEY_ALGORITHM = 'RSA-OAEP-SHA256';
export const PAYLOAD_ALGORITHM = 'AES-256-GCM';

/** Plaintext larger than this is refused before anything is sent. */
export const MAX_PLAINTEXT_BYTES = 10 * 1024 * 1024;

export const DEFAULT_BASE_URL = 'https://api.nomyo.ai:12435';
export const PUBLIC_KEY_PATH = '/pki/public_key';
export const COMPLETION_PATH = '/v1/chat/secure_completion';

export const HEADER_PAYLOAD_ID = 'x-payload-id';
export const HEADER_PUBLIC_KEY = 'x-public-key';
export const HEADER_SECURITY_TIER = 'x-security-tier';

export const SECURITY_TIERS = ['standard', 'high', 'maximum'] as const;
export type SecurityTier = (typeof SECURITY_TIERS)[number];

export function isSecurityTier(value: unknown): value is SecurityTier {
  return typeof value === 'string' && (SECURITY_TIERS as readonly string[]).includes(value);
}
