// Key fingerprints for pinning: 'sha256:' + hex of SHA-256 over the SPKI DER.
import * as crypto from 'node:crypto';
import { SecurityError } from '../errors';

export function publicKeyFingerprint(spkiPem: string): string {
  const der = crypto.createPublicKey({ key: spkiPem, format: 'pem' }).export({ type: 'spki', format: 'der' });
  return `sha256:${crypto.createHash('sha256').update(der).digest('hex')}`;
}

/** Accepts 'sha256:<64 hex>' (any case, optional colons between bytes); returns the canonical form. */
export function normalizeFingerprint(fingerprint: string): string {
  const match = /^sha256:((?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2})$/.exec(fingerprint.trim());
  if (!match) throw new SecurityError("a fingerprint has the form 'sha256:<64 hex digits>'", 'NOMYO_BAD_FINGERPRINT');
  return `sha256:${match[1]!.replace(/:/g, '').toLowerCase()}`;
}

export function fingerprintsEqual(a: string, b: string): boolean {
  const x = Buffer.from(normalizeFingerprint(a));
  const y = Buffer.from(normalizeFingerprint(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
