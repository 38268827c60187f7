// What answers a decrypted chat-completion request: an offline echo for
// development and tests, or an OpenAI-compatible upstream.
import * as crypto from 'node:crypto';
import { NomyoError } from '../errors';

/** A decrypted request, checked to have at least these two fields. */
export interface ChatCompletionRequest {
  model: string;
  messages: unknown[];
  [field: string]: unknown;
}

/** An OpenAI `chat.completion` object, as the backend produced it. */
export type ChatCompletion = Record<string, unknown>;

export interface CompletionBackend {
  readonly name: string;
  /** `signal` aborts when the client goes away. */
  complete(request: ChatCompletionRequest, signal: AbortSignal): Promise<ChatCompletion>;
}

/** The upstream failed or answered something that is not a completion. */
export class UpstreamError extends NomyoError {
  override readonly name: string = 'UpstreamError';
  constructor(message: string) {
    super(message, 'NOMYO_UPSTREAM');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Text of a message's content: a string, or the text parts of a parts array, joined by newlines. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is { type: 'text'; text: string } => isRecord(part) && part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('\n');
}

function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/u).length;
}

/** Answers `"echo: " + <last user message>`, with word counts standing in for tokens. */
export function createEchoBackend(): CompletionBackend {
  return {
    name: 'echo',
    complete: async (request) => {
      const messages = request.messages.filter(isRecord);
      const lastUser = messages.filter((message) => message.role === 'user').at(-1);
      const content = `echo: ${textOf(lastUser?.content)}`;
      const promptTokens = messages.reduce((sum, message) => sum + countWords(textOf(message.content)), 0);
      const completionTokens = countWords(content);
      return {
        id: `chatcmpl-${crypto.randomBytes(12).toString('hex')}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: request.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      };
    },
  };
}

export interface OpenAIBackendOptions {
  /** Base URL of an OpenAI-compatible server; `/v1/chat/completions` is appended. */
  upstreamUrl: string;
  upstreamApiKey?: string;
  timeoutMs: number;
  maxResponseBytes: number;
}

async function readLimited(response: Response, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  if (!response.body) return Buffer.alloc(0);
  for await (const chunk of response.body) {
    received += chunk.byteLength;
    if (received > limit) {
      await response.body.cancel().catch(() => undefined);
      throw new UpstreamError(`the upstream answer exceeds ${limit} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks, received);
}

/**
 * Forwards the decrypted request to an OpenAI-compatible upstream. Its failures
 * are reported by status only: an upstream's error body may quote the prompt.
 */
export function createOpenAIBackend(options: OpenAIBackendOptions): CompletionBackend {
  let endpoint: URL;
  try {
    endpoint = new URL(`${options.upstreamUrl.replace(/\/+$/, '')}/v1/chat/completions`);
  } catch {
    throw new NomyoError('upstreamUrl is not a valid URL', 'NOMYO_INVALID_OPTION');
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw new NomyoError('upstreamUrl must be an http or https URL', 'NOMYO_INVALID_OPTION');
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (options.upstreamApiKey) headers.Authorization = `Bearer ${options.upstreamApiKey}`;

  return {
    name: 'openai',
    complete: async (request, signal) => {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers,
          // The protocol answers with one sealed object, so a stream cannot be relayed.
          body: JSON.stringify({ ...request, stream: false }),
          signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
        });
      } catch {
        throw new UpstreamError('the upstream completion service could not be reached');
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new UpstreamError(`the upstream completion service answered HTTP ${response.status}`);
      }
      let completion: unknown;
      try {
        completion = JSON.parse((await readLimited(response, options.maxResponseBytes)).toString('utf8'));
      } catch (error) {
        if (error instanceof UpstreamError) throw error;
        throw new UpstreamError('the upstream answer could not be read as JSON');
      }
      if (!isRecord(completion) || !Array.isArray(completion.choices)) {
        throw new UpstreamError('the upstream answer is not a chat completion');
      }
      return completion;
    },
  };
}
