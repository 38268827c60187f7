import * as crypto from 'node:crypto';
import { publicKeyFingerprint } from '../../lib/keys/fingerprint';
import { startReferenceServer } from '../../lib/server';
import type { ReferenceServer } from '../../lib/server';
import { backendChoices, chat, httpCall, TestClient } from './support';

describe.each(backendChoices)('reference server on the %s backend', (_name, secureMemory) => {
  let server: ReferenceServer;
  let client: TestClient;

  beforeAll(async () => {
    server = await startReferenceServer({ port: 0, keyBits: 2048, secureMemory });
    client = await TestClient.create(server, { secureMemory });
  });

  afterAll(async () => {
    client.dispose();
    await server.close();
  });

  it('serves its public key as PEM, matching its fingerprint', async () => {
    const answer = await httpCall(`${server.url}/pki/public_key`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^(text\/plain|application\/x-pem-file)/);
    expect(answer.body).toBe(server.publicKeyPem);
    const key = crypto.createPublicKey(answer.body);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(publicKeyFingerprint(answer.body)).toBe(server.fingerprint);
    expect(server.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('echoes the last user message through the encrypted round trip', async () => {
    const text = 'Grüße, 世界! 🔐 naïve café — "quoted" \\ back\nslash';
    const { completion } = await client.complete({
      model: 'Qwen/Qwen3-0.6B',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'an earlier question' },
        { role: 'assistant', content: 'an earlier answer' },
        { role: 'user', content: text },
      ],
      temperature: 0.2,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe('Qwen/Qwen3-0.6B');
    expect(Number.isInteger(completion.created)).toBe(true);
    expect(completion.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: `echo: ${text}` }, finish_reason: 'stop' },
    ]);
    const { prompt_tokens, completion_tokens, total_tokens } = completion.usage;
    expect(prompt_tokens).toBeGreaterThan(0);
    expect(completion_tokens).toBe(`echo: ${text}`.trim().split(/\s+/).length);
    expect(total_tokens).toBe(prompt_tokens + completion_tokens);
  });

  it('joins the text parts of array content', async () => {
    const { completion } = await client.complete(
      chat([
        { type: 'text', text: 'first part' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        { type: 'text', text: 'second part' },
      ]),
    );
    expect(completion.choices[0]!.message.content).toBe('echo: first part\nsecond part');
  });

  it('puts payload_id, processed_at and tpm_attestation in _metadata and in the package', async () => {
    const { decoded, completion, payloadId } = await client.complete(chat('metadata please'), { tier: 'high' });
    expect(decoded.payloadId).toBe(payloadId);
    expect(typeof decoded.processedAt).toBe('string');
    expect(completion._metadata).toEqual({
      payload_id: payloadId,
      processed_at: decoded.processedAt,
      tpm_attestation: { is_available: false },
    });
    expect(new Date(completion._metadata.processed_at as string).toISOString()).toBe(completion._metadata.processed_at);
  });

  it('accepts the standard tier and no tier at all', async () => {
    for (const tier of ['standard', undefined]) {
      const { completion } = await client.complete(chat(`tier ${tier}`), { tier });
      expect(completion.choices[0]!.message.content).toBe(`echo: tier ${tier}`);
    }
  });

  it('gives each of 50 concurrent requests its own answer', async () => {
    const clients = [client, await TestClient.create(server, { secureMemory })];
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => clients[i % 2]!.complete(chat(`request number ${i}`))),
      );
      results.forEach((result, i) => {
        expect(result.decoded.payloadId).toBe(result.payloadId);
        expect(result.completion._metadata.payload_id).toBe(result.payloadId);
        expect(result.completion.choices[0]!.message.content).toBe(`echo: request number ${i}`);
      });
      expect(new Set(results.map((result) => result.payloadId)).size).toBe(50);
    } finally {
      clients[1]!.dispose();
    }
  });
});

describe('reference server and client on different backends', () => {
  it('interoperates: native server, node:crypto client and the reverse', async () => {
    for (const [serverSecure, clientSecure] of [
      [true, false],
      [false, true],
    ]) {
      const server = await startReferenceServer({ port: 0, keyBits: 2048, secureMemory: serverSecure });
      const client = await TestClient.create(server, { secureMemory: clientSecure });
      try {
        const { completion } = await client.complete(chat('across backends ✓'));
        expect(completion.choices[0]!.message.content).toBe('echo: across backends ✓');
      } finally {
        client.dispose();
        await server.close();
      }
    }
  });
});

describe('reference server with its default key size', () => {
  it('generates an RSA-4096 key and serves with it', async () => {
    const server = await startReferenceServer({ port: 0 });
    const client = await TestClient.create(server);
    try {
      expect(crypto.createPublicKey(server.publicKeyPem).asymmetricKeyDetails?.modulusLength).toBe(4096);
      const { completion } = await client.complete(chat('four thousand and ninety-six'));
      expect(completion.choices[0]!.message.content).toBe('echo: four thousand and ninety-six');
    } finally {
      client.dispose();
      await server.close();
    }
  });
});
