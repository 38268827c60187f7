// Requests, loggers and environment facts shared by the client tests.
import type { ChatCompletionCreateParams, Logger } from '../../../lib';
import { getMemoryProtectionInfo } from '../../../lib';
import { CANARY_PLAINTEXT } from './canaries';

/** A chat request whose user message carries the plaintext canary. */
export function ask(text: string, extra: Partial<ChatCompletionCreateParams> = {}): ChatCompletionCreateParams {
  return { model: 'test-model', messages: [{ role: 'user', content: `${CANARY_PLAINTEXT} ${text}` }], ...extra };
}

/** What the echo peers answer to ask(text). */
export function echoOf(text: string): string {
  return `echo: ${CANARY_PLAINTEXT} ${text}`;
}

export interface CapturedLog {
  lines: Array<{ level: keyof Logger; message: string }>;
  logger: Logger;
  /** All lines, one per line of text. */
  text(): string;
  /** Calls `f` for every line logged from now on (e.g. to abort on a retry notice). */
  onLine(f: (message: string) => void): void;
}

export function captureLogger(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const listeners: Array<(message: string) => void> = [];
  const keep =
    (level: keyof Logger) =>
    (message: string): void => {
      lines.push({ level, message });
      for (const listener of listeners) listener(message);
    };
  return {
    lines,
    logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') },
    text: () => lines.map((line) => `${line.level}: ${line.message}`).join('\n'),
    onLine: (f) => listeners.push(f),
  };
}

/** CI runs the client suite twice: on the native addon, and with NOMYO_FORCE_FALLBACK=1. */
export const fallbackForced = process.env.NOMYO_FORCE_FALLBACK === '1';

/** The SDK's crypto really runs on the native addon in this process. */
export function nativeInUse(): boolean {
  return getMemoryProtectionInfo().native_addon;
}

/** `it` where the native addon is in use, `it.skip` on the node:crypto fallback. */
export const itNative: jest.It = getMemoryProtectionInfo().native_addon ? it : it.skip;
/** `it` on the fallback, `it.skip` on the native addon. */
export const itFallback: jest.It = getMemoryProtectionInfo().native_addon ? it.skip : it;

/** A UUID version 4 (RFC 9562), lowercase as crypto.randomUUID makes them. */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
