// Request and response objects of a chosen serialized size, shaped like real
// chat completions: prose with newlines and the odd quote (so JSON escaping is
// exercised), split into conversation turns for requests, one long answer for
// responses. Deterministic, so every run measures the same bytes.

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you ' +
  'patient record summary analysis model request response encrypted secure inference protocol token context window ' +
  'document section paragraph result table value figure review policy contract clause signed dated amount total'
).split(' ');

function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ASCII prose of exactly `length` characters; about 1 in 100 characters needs a JSON escape. */
export function prose(length: number, seed = 1): string {
  const next = rng(seed);
  const parts: string[] = [];
  let size = 0;
  let line = 0;
  while (size < length) {
    let word = WORDS[Math.floor(next() * WORDS.length)]!;
    const r = next();
    if (r < 0.02) word = `"${word}"`;
    else if (r < 0.06) word += ',';
    else if (r < 0.09) word += '.';
    line += word.length + 1;
    const sep = line > 80 ? '\n' : ' ';
    if (sep === '\n') line = 0;
    parts.push(word, sep);
    size += word.length + 1;
  }
  // A fresh flat string, not a slice of a larger one.
  return Buffer.from(parts.join('').slice(0, length), 'latin1').toString('latin1');
}

function serializedBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** Grows or trims `content` of `holder` until the whole value serializes to `target` bytes. */
function fitTo(value: unknown, holder: { content: string }, target: number, seed: number): void {
  for (let i = 0; i < 8; i++) {
    const diff = target - serializedBytes(value);
    if (diff === 0) return;
    const want = Math.max(0, holder.content.length + diff);
    holder.content = holder.content.length >= want ? holder.content.slice(0, want) : prose(want, seed);
    holder.content = Buffer.from(holder.content, 'latin1').toString('latin1');
  }
}

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: string }>;
  temperature: number;
  max_tokens: number;
  [field: string]: unknown;
}

/**
 * A chat-completion request whose JSON is `bytes` long: a system prompt and
 * turns of about 8 KiB (a long document or conversation). The last message is
 * a short user question, so the reference server's echo answer stays small.
 */
export function chatRequest(bytes: number, seed = 7): ChatRequest {
  const turnBytes = 8 * 1024;
  const turns = Math.max(1, Math.floor(bytes / turnBytes));
  const build = (each: number): ChatRequest => ({
    model: 'Qwen/Qwen3-0.6B',
    messages: [
      { role: 'system', content: 'You are a careful assistant.' },
      ...Array.from({ length: turns }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: prose(each, seed + i) })),
      { role: 'user', content: 'Summarise the above in three sentences.' },
    ],
    temperature: 0.7,
    max_tokens: 1024,
  });
  // Escapes make the JSON longer than the text: scale the turns once, then trim one of them.
  const envelope = serializedBytes(build(0));
  const first = Math.floor((bytes - envelope) / turns);
  const grown = serializedBytes(build(first)) - envelope;
  const request = build(Math.max(0, Math.floor((first * (bytes - envelope)) / Math.max(1, grown))));
  fitTo(request, request.messages[1]!, bytes, seed);
  return request;
}

/** An OpenAI chat.completion whose JSON is `bytes` long: one long answer. */
export function chatCompletion(bytes: number, seed = 11): Record<string, unknown> {
  const message = { role: 'assistant', content: prose(bytes, seed) };
  const completion = {
    id: 'chatcmpl-0123456789abcdef01234567',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'Qwen/Qwen3-0.6B',
    choices: [{ index: 0, message, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1234, completion_tokens: 5678, total_tokens: 6912 },
    _metadata: { payload_id: 'bench', processed_at: '2024-01-01T00:00:00.000Z', tpm_attestation: { is_available: false } },
  };
  fitTo(completion, message, bytes, seed);
  return completion;
}

export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / (1024 * 1024))} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} B`;
}

/**
 * A request the reference server's echo backend answers with about as many
 * bytes: a single user message, so request and response are both `bytes` long.
 */
export function echoRequest(bytes: number, seed = 3): ChatRequest {
  const message = { role: 'user', content: prose(bytes, seed) };
  const request: ChatRequest = { model: 'Qwen/Qwen3-0.6B', messages: [message], temperature: 0.7, max_tokens: 1024 };
  fitTo(request, message, bytes, seed);
  return request;
}
