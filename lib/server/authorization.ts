// The optional API key: `Authorization: Bearer <key>`, compared in constant time.
import * as crypto from 'node:crypto';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Checks bearer tokens against one API key. Both sides are hashed first so the
 * comparison takes the same time whatever the lengths and the common prefix.
 */
export function createApiKeyCheck(apiKey: string): (authorization: string | undefined) => boolean {
  const expected = digest(apiKey);
  return (authorization) => {
    const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    // A missing token is still compared, against a value that cannot match.
    const offered = digest(token ?? '');
    return crypto.timingSafeEqual(offered, expected) && token !== undefined;
  };
}
