// Silent by default. NODE_DEBUG=nomyo (util.debuglog) or a caller's logger shows
// the security operations. Callers of log() pass facts only: sizes, ids, key
// fingerprints, tiers — never a key, password, API key or plaintext.
import { debuglog } from 'node:util';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const nodeDebug = debuglog('nomyo');

/** Writes to NODE_DEBUG=nomyo, and nowhere else. */
export const debugLogger: Logger = {
  debug: (message) => nodeDebug(message),
  info: (message) => nodeDebug(message),
  warn: (message) => nodeDebug(`warning: ${message}`),
  error: (message) => nodeDebug(`error: ${message}`),
};

export function resolveLogger(logger: Logger | undefined): Logger {
  return logger ?? debugLogger;
}
