// The client against real peers: what it sends, where, and what comes back.
import * as crypto from 'node:crypto';
import { APIError, InvalidRequestError, NomyoError, SecureChatCompletion } from '../../lib';
import { endpointUrl } from '../../lib/client/endpoint-url';
import type { ChatCompletionCreateParams } from '../../lib';
import { getBackend } from '../../lib/crypto';
import { decodePackage } from '../../lib/protocol/package';
import type { ReferenceServer } from '../../lib/server';
import {
  CANARY_API_KEY,
  CANARY_PLAINTEXT,
  canariesIn,
  itLeaksNoSecretsInErrors,
  rejectionOf,
} from './support/canaries';
import { ask, echoOf, itNative, UUID_V4 } from './support/fixtures';
import { clientWithKeys, makeTempDir, removeTempDirs, spkiDer, writeKeyPair } from './support/keys';
import type { KeyFiles } from './support/keys';
import { closedPort, headerOf, startFaultServer, startRecordingProxy, startReference } from './support/servers';
import type { FaultServer, RecordingProxy } from './support/servers';

const MAX_PLAINTEXT_BYTES = 10 * 1024 * 1024;

/** A request whose JSON serialization is exactly `bytes` long, mostly two-byte characters. */
function requestOfSize(bytes: number): { params: ChatCompletionCreateParams; content: string } {
  const base = Buffer.byteLength(JSON.stringify({ model: 'test-model', messages: [{ role: 'user', content: '' }] }));
  const prefix = `${CANARY_PLAINTEXT} `;
  const available = bytes - base - Buffer.byteLength(prefix);
  const twoByte = Math.floor(available / 4); // half the room in 'é' (2 bytes each), the rest ASCII
  const content = prefix + 'é'.repeat(twoByte) + 'a'.repeat(available - 2 * twoByte);
  const params = { model: 'test-model', messages: [{ role: 'user', content }] };
  expect(Buffer.byteLength(JSON.stringify(params))).toBe(bytes);
  return { params, content };
}

let reference: ReferenceServer;
let proxy: RecordingProxy;
let fault: FaultServer;
let keys: KeyFiles;
/** Talks to the reference server (which requires the API key) through the recording proxy. */
let client: SecureChatCompletion;

beforeAll(async () => {
  reference = await startReference({ apiKey: CANARY_API_KEY });
  proxy = await startRecordingProxy(reference.url);
  fault = await startFaultServer();
  keys = writeKeyPair(makeTempDir());
  client = await clientWithKeys(keys, { baseUrl: proxy.url, allowHttp: true, apiKey: CANARY_API_KEY });
});

afterAll(async () => {
  client.close();
  await proxy.close();
  await reference.close();
  await fault.close();
  removeTempDirs();
});

describe('round trip against the reference server', () => {
  it("answers the same whether responses may be opened on the JS thread ('auto') or never ('always')", async () => {
    for (const cryptoOffload of ['auto', 'always'] as const) {
      const offloading = await clientWithKeys(keys, { baseUrl: proxy.url, allowHttp: true, apiKey: CANARY_API_KEY, cryptoOffload });
      try {
        const [one, ...together] = await Promise.all([offloading.create(ask('alone')), offloading.create(ask('with')), offloading.create(ask('company'))]);
        expect(one!.choices[0]!.message.content).toBe(echoOf('alone'));
        expect(together.map((r) => r.choices[0]!.message.content)).toEqual([echoOf('with'), echoOf('company')]);
        expect((await offloading.create(ask('then alone'))).choices[0]!.message.content).toBe(echoOf('then alone'));
      } finally {
        offloading.close();
      }
    }
    expect(() => new SecureChatCompletion({ cryptoOffload: 'sometimes' as never })).toThrow(InvalidRequestError);
  });

  // A lone response skips the loop turn that looks for company only while its
  // exchange is the only one counted in flight: one create() left counted
  // (a failed one, say) would make every later response wait that turn.
  itNative('counts each create() in flight only until it settles, a failed one too', async () => {
    const backend = getBackend();
    const key = await backend.generateKeyPair(2048);
    const body = await backend.sealPackage(backend.secretFromString('{"a":1}'), backend.importPublicKey(key.publicKeyPem()));
    const loneResponseWaitsATurn = async (): Promise<boolean> => {
      const exchange = backend.beginExchange();
      let turned = false;
      setImmediate(() => (turned = true));
      try {
        (await backend.openPackage(body, key, { exchange })).secret.dispose();
      } finally {
        exchange.end();
      }
      return turned;
    };
    const unreachable = await clientWithKeys(keys, { baseUrl: `http://127.0.0.1:${await closedPort()}`, allowHttp: true, maxRetries: 0 });
    try {
      expect(await loneResponseWaitsATurn()).toBe(false);
      expect((await client.create(ask('counted'))).choices[0]!.message.content).toBe(echoOf('counted'));
      expect(await loneResponseWaitsATurn()).toBe(false);
      await rejectionOf(unreachable.create(ask('never sent')));
      expect(await loneResponseWaitsATurn()).toBe(false);
      // While a create() is in flight, the response has company.
      const inFlight = client.create(ask('in flight'));
      expect(await loneResponseWaitsATurn()).toBe(true);
      await inFlight;
    } finally {
      unreachable.close();
      key.dispose();
    }
  });

  it('returns the decrypted chat.completion answering the request', async () => {
    const response = await client.create(ask('hello there'));
    expect(response.object).toBe('chat.completion');
    expect(response.model).toBe('test-model');
    expect(response.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: echoOf('hello there') }, finish_reason: 'stop' },
    ]);
  });

  it.each([
    ['BMP letters and symbols', 'Grüße, 世界! naïve café — “quotes” \\ backslash € ∑ ☃'],
    ['astral-plane characters', '𝄞 𠜎 𝕳𝖊𝖑𝖑𝖔 𐍈 🀄'],
    ['emoji with joiners, skin tones and flags', '👩‍👩‍👧‍👦 👍🏽 🏳️‍🌈 🇺🇦 🔐'],
    ['right-to-left text and bidi controls', 'مرحبا بالعالم ‏שלום עולם‎ \u202eevil\u202c \u2067isolate\u2069'],
    ['control characters other than NUL', '\u0001\u0002\u0007\b\t\n\u000b\f\r\u001b[31m\u001f\u007f\u0085 \ufeff\u200b\u2028\u2029'],
  ])('carries %s intact both ways', async (_what, text) => {
    const response = await client.create(ask(text));
    expect(response.choices[0]!.message.content).toBe(echoOf(text));
  });

  // Megabytes of base64 once overflowed a backtracking regex on the fallback.
  it('sends a request one byte under 10 MiB and gets it back whole', async () => {
    const { params, content } = requestOfSize(MAX_PLAINTEXT_BYTES - 1);
    const response = await client.create(params);
    const answer = response.choices[0]!.message.content as string;
    expect(answer.length).toBe(`echo: ${content}`.length);
    expect(answer === `echo: ${content}`).toBe(true); // not toBe: a 10 MiB diff is no use to anyone
  });

  it('accepts a request of exactly 10 MiB: only what is over the limit is refused', async () => {
    const { params, content } = requestOfSize(MAX_PLAINTEXT_BYTES);
    const response = await client.create(params);
    expect((response.choices[0]!.message.content as string).length).toBe(`echo: ${content}`.length);
  });
});

describe('requests refused before anything is sent', () => {
  it('refuses a request one byte over 10 MiB with InvalidRequestError, and the server sees nothing', async () => {
    const before = fault.requests.length;
    const connectionsBefore = fault.connections;
    const fresh = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    try {
      const error = await rejectionOf(fresh.create(requestOfSize(MAX_PLAINTEXT_BYTES + 1).params));
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).code).toBe('NOMYO_TOO_LARGE');
      expect((error as InvalidRequestError).status).toBeUndefined();
    } finally {
      fresh.close();
    }
    expect(fault.requests.length).toBe(before);
    expect(fault.connections).toBe(connectionsBefore);
  });

  it('refuses a request that has no JSON form (BigInt, cycle) with InvalidRequestError, and sends nothing', async () => {
    const before = fault.requests.length;
    const fresh = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    try {
      for (const extra of [{ seed: 10n }, { metadata: cyclic }]) {
        const error = await rejectionOf(fresh.create(ask('not serializable', extra)));
        expect(error).toBeInstanceOf(InvalidRequestError);
        expect((error as InvalidRequestError).code).toBe('NOMYO_NOT_SERIALIZABLE');
      }
    } finally {
      fresh.close();
    }
    expect(fault.requests.length).toBe(before);
  });

  it.each([['MAXIMUM'], ['low'], [''], [null], [3]])(
    'refuses security_tier %p with InvalidRequestError, and sends nothing',
    async (tier) => {
      const before = fault.requests.length;
      const fresh = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
      try {
        const error = await rejectionOf(fresh.create(ask('bad tier', { security_tier: tier as never })));
        expect(error).toBeInstanceOf(InvalidRequestError);
        expect((error as NomyoError).code).toBe('NOMYO_BAD_TIER');
      } finally {
        fresh.close();
      }
      expect(fault.requests.length).toBe(before);
    },
  );

  it('refuses parameters that are not an object', async () => {
    for (const params of [null, undefined, 'hello', [ask('in an array')]]) {
      const error = await rejectionOf(client.create(params as never));
      expect(error).toBeInstanceOf(InvalidRequestError);
    }
  });

  // An API key read from a file with its newline must not reach node:http, which
  // would throw a bare TypeError (README: "All errors extend NomyoError").
  it('refuses an API key that cannot be a header value with a NomyoError, and posts nothing', async () => {
    const before = fault.posts.length;
    const error = await rejectionOf(
      client.create(ask('header injection', { base_url: fault.url, api_key: `${CANARY_API_KEY}\r\nX-Injected: 1` })),
    );
    expect(fault.posts.length).toBe(before);
    expect(error).toBeInstanceOf(NomyoError);
  });
});

describe('what travels where', () => {
  it('puts every OpenAI field, known or not, inside the encrypted request, and the client fields nowhere in it', async () => {
    const params: ChatCompletionCreateParams = {
      model: 'Qwen/Qwen3-0.6B',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: `${CANARY_PLAINTEXT} with fields` },
      ],
      temperature: 0.25,
      max_tokens: 77,
      top_p: 0.9,
      n: 1,
      stop: ['\n\n', 'END'],
      seed: 42,
      stream: false,
      logit_bias: { '50256': -100 },
      response_format: { type: 'json_object' },
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      tool_choice: 'auto',
      user: 'user-1234',
      x_vendor_extension: { nested: [1, 'two', null, { three: true }] },
      security_tier: 'high',
      api_key: CANARY_API_KEY,
      base_url: fault.url,
    };
    const untouched = structuredClone(params);
    const plaintextsBefore = fault.plaintexts.length;

    const response = await client.create(params);
    expect(response.choices[0]!.message.content).toBe(`echo: ${CANARY_PLAINTEXT} with fields`);

    const expected: Record<string, unknown> = { ...untouched };
    for (const field of ['security_tier', 'api_key', 'base_url']) delete expected[field];
    expect(fault.plaintexts.slice(plaintextsBefore)).toEqual([expected]);
    const plaintext = fault.plaintexts.at(-1)!;
    for (const field of ['security_tier', 'api_key', 'base_url']) expect(plaintext).not.toHaveProperty(field);
    expect(canariesIn(JSON.stringify(plaintext))).toEqual([CANARY_PLAINTEXT]); // the message, not the API key

    const post = fault.posts.at(-1)!;
    expect(headerOf(post, 'x-security-tier')).toBe('high');
    expect(headerOf(post, 'authorization')).toBe(`Bearer ${CANARY_API_KEY}`);
    expect(canariesIn(post.body.toString('latin1'))).toEqual([]); // the body is ciphertext only
    expect(params).toEqual(untouched); // the caller's object is left as it was
  });

  it('sends X-Security-Tier and Authorization only when there is a tier and a key', async () => {
    const bare = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    const keyed = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, apiKey: 'client-level-key' });
    try {
      await bare.create(ask('no tier, no key'));
      let post = fault.posts.at(-1)!;
      expect(post.headers).not.toHaveProperty('x-security-tier');
      expect(post.headers).not.toHaveProperty('authorization');

      for (const tier of ['standard', 'high'] as const) {
        await bare.create(ask(`tier ${tier}`, { security_tier: tier }));
        expect(headerOf(fault.posts.at(-1)!, 'x-security-tier')).toBe(tier);
      }

      await keyed.create(ask('client-level key'));
      post = fault.posts.at(-1)!;
      expect(headerOf(post, 'authorization')).toBe('Bearer client-level-key');
      expect(post.headers).not.toHaveProperty('x-security-tier');

      await keyed.create(ask('per-call key', { api_key: 'per-call-key' }));
      expect(headerOf(fault.posts.at(-1)!, 'authorization')).toBe('Bearer per-call-key');
    } finally {
      bare.close();
      keyed.close();
    }
  });

  it('sends a per-call base_url request to that URL and not to the client baseUrl', async () => {
    const proxyBefore = proxy.requests.length;
    const faultBefore = fault.posts.length;
    const response = await client.create(ask('elsewhere', { base_url: fault.url }));
    expect(response.choices[0]!.message.content).toBe(echoOf('elsewhere'));
    expect(fault.posts.length).toBe(faultBefore + 1);
    expect(proxy.requests.length).toBe(proxyBefore);
  });

  // PROTOCOL.md addresses the endpoints as {base}/pki/public_key and
  // {base}/v1/chat/secure_completion: a path in baseUrl (a gateway prefix) is
  // kept. The fault server serves its key only at /pki/public_key, so the
  // prefixed client stops at the key fetch; the POST path is checked directly.
  it('keeps the path of baseUrl: {base}/pki/public_key and {base}/v1/chat/secure_completion', async () => {
    const prefixed = await clientWithKeys(keys, { baseUrl: `${fault.url}/gateway/nomyo/`, allowHttp: true, maxRetries: 0 });
    const before = fault.requests.length;
    try {
      const failure = await rejectionOf(prefixed.create(ask('behind a gateway')));
      expect((failure as APIError).status).toBe(404);
    } finally {
      prefixed.close();
    }
    expect(fault.requests.slice(before).map((seen) => `${seen.method} ${seen.path}`)).toEqual([
      'GET /gateway/nomyo/pki/public_key',
    ]);
    expect(endpointUrl(`${fault.url}/gateway/nomyo/?q=1#f`, '/v1/chat/secure_completion').href).toBe(
      `${fault.url}/gateway/nomyo/v1/chat/secure_completion`,
    );
  });

  it('sends its public key PEM percent-encoded in X-Public-Key', async () => {
    await client.create(ask('public key header'));
    const header = headerOf(proxy.requests.at(-1)!, 'x-public-key')!;
    expect(header).toMatch(/^[A-Za-z0-9\-_.!~*'()%]+$/); // no raw '/', '+', '=', newline or space
    const pem = decodeURIComponent(header);
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n?$/);
    expect(header).toBe(encodeURIComponent(pem));
    expect(spkiDer(pem).equals(spkiDer(keys.publicKeyPem))).toBe(true);
  });

  it('posts a package with a fresh UUIDv4 X-Payload-ID and Content-Type application/octet-stream each time', async () => {
    const before = proxy.requests.length;
    for (let i = 0; i < 3; i++) await client.create(ask(`request ${i}`));
    const posts = proxy.requests.slice(before);
    expect(posts.map((seen) => `${seen.method} ${seen.path}`)).toEqual(Array(3).fill('POST /v1/chat/secure_completion'));
    const ids = posts.map((seen) => headerOf(seen, 'x-payload-id'));
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(3);
    for (const seen of posts) {
      expect(headerOf(seen, 'content-type')).toBe('application/octet-stream');
      const json = JSON.parse(seen.body.toString('utf8')) as Record<string, unknown>;
      expect(json).toMatchObject({
        version: '1.0',
        algorithm: 'hybrid-aes256-rsa4096',
        key_algorithm: 'RSA-OAEP-SHA256',
        payload_algorithm: 'AES-256-GCM',
      });
      const { fields } = decodePackage(seen.body);
      expect(Buffer.from(fields.nonce, 'base64')).toHaveLength(12);
      expect(Buffer.from(fields.tag, 'base64')).toHaveLength(16);
      expect(Buffer.from(fields.encrypted_aes_key, 'base64')).toHaveLength(2048 / 8); // the server key's size
      expect(Buffer.from(fields.ciphertext, 'base64').toString('base64')).toBe(fields.ciphertext); // canonical base64
    }
  });
});

describe('acreate and chat.completions.create', () => {
  it('are the same call as create, also when detached from the client', async () => {
    const { acreate } = client;
    const { create } = client.chat.completions;
    const before = proxy.requests.length;
    const viaAcreate = await acreate(ask('via acreate', { security_tier: 'standard' }));
    const viaChat = await create(ask('via chat.completions.create', { security_tier: 'standard' }));
    expect(viaAcreate.choices[0]!.message.content).toBe(echoOf('via acreate'));
    expect(viaChat.choices[0]!.message.content).toBe(echoOf('via chat.completions.create'));
    for (const response of [viaAcreate, viaChat]) {
      expect(response._metadata).toMatchObject({ is_encrypted: true, security_tier: 'standard' });
    }
    const posts = proxy.requests.slice(before);
    expect(posts).toHaveLength(2);
    for (const seen of posts) {
      expect(headerOf(seen, 'x-security-tier')).toBe('standard');
      expect(headerOf(seen, 'authorization')).toBe(`Bearer ${CANARY_API_KEY}`);
    }
  });

  it('refuse what create refuses, before sending', async () => {
    const before = proxy.requests.length;
    for (const call of [client.acreate, client.chat.completions.create]) {
      const error = await rejectionOf(call(ask('bad tier', { security_tier: 'ultra' as never })));
      expect(error).toBeInstanceOf(InvalidRequestError);
    }
    expect(proxy.requests.length).toBe(before);
  });
});

describe('a closed client', () => {
  // Observed: close() wipes the key pair and destroys the agents, but create()
  // afterwards silently generates a new RSA-4096 pair (a loaded or keyDir key is
  // replaced by an ephemeral one) and sends the request as if nothing happened.
  // Expected: a closed client refuses further calls. See the report.
  it('refuses create() after close(), and sends nothing', async () => {
    const closing = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    await closing.create(ask('before close'));
    closing.close();
    const before = fault.posts.length;
    const error = await rejectionOf(closing.create(ask('after close')));
    expect(error).toBeInstanceOf(NomyoError);
    expect(fault.posts.length).toBe(before);
  });
});

describe('RSA key sizes on the wire', () => {
  it('seals to whatever RSA size the server key has (4096 here)', async () => {
    const big = await startFaultServer({ keyBits: 4096 });
    const toBig = await clientWithKeys(keys, { baseUrl: big.url, allowHttp: true });
    try {
      const response = await toBig.create(ask('to a 4096-bit server key'));
      expect(response.choices[0]!.message.content).toBe(echoOf('to a 4096-bit server key'));
      const { fields } = decodePackage(big.posts[0]!.body);
      expect(Buffer.from(fields.encrypted_aes_key, 'base64')).toHaveLength(4096 / 8);
      expect(crypto.createPublicKey(big.publicKeyPem).asymmetricKeyDetails?.modulusLength).toBe(4096);
    } finally {
      toBig.close();
      await big.close();
    }
  });
});

itLeaksNoSecretsInErrors();
