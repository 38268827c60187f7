// The package: the JSON envelope that carries a sealed payload in both directions.
import { SecurityError } from '../errors';
import type { SealedFields } from '../crypto';
import { KEY_ALGORITHM, PACKAGE_ALGORITHM, PAYLOAD_ALGORITHM, PROTOCOL_VERSION } from './constants';

export interface DecodedPackage {
  fields: SealedFields;
  algorithm: string;
  /** Present on responses from servers that echo the request's id. */
  payloadId?: string;
  processedAt?: unknown;
}

export class PackageError extends SecurityError {
  override readonly name: string = 'PackageError';
  constructor(message: string) {
    super(message, 'NOMYO_BAD_PACKAGE');
  }
}

/**
 * Assembles the package body. The base64 fields need no escaping, so the body
 * is built around them rather than re-serialized (a 10 MiB payload is 14 MiB
 * of base64; JSON.stringify would scan and copy it again).
 */
export function encodePackage(fields: SealedFields, extra: Record<string, string | number> = {}): string {
  let tail = '';
  for (const [name, value] of Object.entries(extra)) tail += `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
  return (
    `{"version":"${PROTOCOL_VERSION}","algorithm":"${PACKAGE_ALGORITHM}",` +
    `"encrypted_payload":{"ciphertext":"${fields.ciphertext}","nonce":"${fields.nonce}","tag":"${fields.tag}"},` +
    `"encrypted_aes_key":"${fields.encrypted_aes_key}","key_algorithm":"${KEY_ALGORITHM}",` +
    `"payload_algorithm":"${PAYLOAD_ALGORITHM}"${tail}}`
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(record: Record<string, unknown>, name: string, where = ''): string {
  const value = record[name];
  if (typeof value !== 'string') throw new PackageError(`the package lacks ${where}${name}`);
  return value;
}

/** Parses and checks a package; unknown extra fields are accepted, missing ones are not. */
export function decodePackage(body: Buffer | string): DecodedPackage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    throw new PackageError('the package is not valid JSON');
  }
  if (!isRecord(parsed)) throw new PackageError('the package is not a JSON object');
  const version = requireString(parsed, 'version');
  if (version !== PROTOCOL_VERSION) throw new PackageError('unsupported package version');
  const algorithm = requireString(parsed, 'algorithm');
  if (algorithm !== PACKAGE_ALGORITHM) throw new PackageError('unsupported package algorithm');
  for (const [name, expected] of [
    ['key_algorithm', KEY_ALGORITHM],
    ['payload_algorithm', PAYLOAD_ALGORITHM],
  ] as const) {
    if (parsed[name] !== undefined && parsed[name] !== expected) throw new PackageError(`unsupported ${name}`);
  }
  const payload = parsed.encrypted_payload;
  if (!isRecord(payload)) throw new PackageError('the package lacks encrypted_payload');
  const fields: SealedFields = {
    ciphertext: requireString(payload, 'ciphertext', 'encrypted_payload.'),
    nonce: requireString(payload, 'nonce', 'encrypted_payload.'),
    tag: requireString(payload, 'tag', 'encrypted_payload.'),
    encrypted_aes_key: requireString(parsed, 'encrypted_aes_key'),
  };
  const decoded: DecodedPackage = { fields, algorithm };
  if (parsed.payload_id !== undefined) {
    if (typeof parsed.payload_id !== 'string') throw new PackageError('payload_id is not a string');
    decoded.payloadId = parsed.payload_id;
  }
  if (parsed.processed_at !== undefined) decoded.processedAt = parsed.processed_at;
  return decoded;
}
