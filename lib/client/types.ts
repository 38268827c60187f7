// The public shapes of requests and responses, in the OpenAI chat-completion idiom.
import type { SecurityTier } from '../protocol/constants';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool' | 'developer' | (string & {});

export interface ChatMessage {
  role: ChatRole;
  content?: string | null | Array<{ type: string; [field: string]: unknown }>;
  name?: string;
  tool_calls?: unknown[];
  tool_call_id?: string;
  [field: string]: unknown;
}

export interface ChatCompletionCreateParams {
  model: string;
  messages: ChatMessage[];
  /** Sent as the X-Security-Tier header, never inside the encrypted request. */
  security_tier?: SecurityTier;
  /** Overrides the client's API key for this request; sent as a header only. */
  api_key?: string;
  /** Overrides the client's base URL for this request. */
  base_url?: string;
  /** Any other OpenAI field (temperature, max_tokens, tools, …) travels encrypted. */
  [field: string]: unknown;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Milliseconds per attempt; overrides the client's timeout. */
  timeout?: number;
}

/** What protection the request's and the response's plaintext really had. */
export interface RequestMemoryProtection {
  native_addon: boolean;
  method: 'mlock' | 'wipe-only' | 'none';
  request_plaintext_locked: boolean;
  response_plaintext_locked: boolean;
  /** Bytes of the request's plaintext that were locked (all, or under a lock limit perhaps some). */
  request_plaintext_locked_bytes: number;
  request_plaintext_bytes: number;
  response_plaintext_locked_bytes: number;
  response_plaintext_bytes: number;
  core_dump_excluded: boolean;
  /** Plaintext buffers made by the SDK were wiped after use (best effort without the addon). */
  plaintext_wiped: boolean;
  /** The returned object is the caller's: the SDK cannot wipe JS objects. */
  returned_object: 'caller-owned';
}

export interface ResponseMetadata {
  payload_id: string;
  processed_at?: unknown;
  is_encrypted: true;
  encryption_algorithm: string;
  security_tier: SecurityTier | null;
  memory_protection: RequestMemoryProtection;
  tpm_attestation?: unknown;
  [field: string]: unknown;
}

export interface ChatCompletion {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  choices: Array<{
    index: number;
    message: ChatMessage;
    finish_reason?: string | null;
    [field: string]: unknown;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number; [field: string]: unknown };
  _metadata: ResponseMetadata;
  [field: string]: unknown;
}
