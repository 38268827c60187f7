import * as crypto from 'node:crypto';
import { startReferenceServer } from '../../lib/server';
import type { ReferenceServer } from '../../lib/server';
import { backendChoices, chat, detailOf, httpCall, recordingLogger, TestClient } from './support';
import type { HttpAnswer } from './support';

// Appears in every plaintext these tests send: no error body or log line may carry it.
const CANARY = 'CANARY-7f3a9c-do-not-leak';
const API_KEY = 'sk-test-4b1d2e';

describe.each(backendChoices)('reference server refusals on the %s backend', (_name, secureMemory) => {
  let server: ReferenceServer;
  let client: TestClient;
  const log = recordingLogger();
  const answers: HttpAnswer[] = [];

  async function expectRefusal(answer: HttpAnswer | Promise<HttpAnswer>, status: number): Promise<string> {
    const settled = await answer;
    answers.push(settled);
    expect(settled.status).toBe(status);
    return detailOf(settled);
  }

  beforeAll(async () => {
    server = await startReferenceServer({
      port: 0,
      keyBits: 2048,
      apiKey: API_KEY,
      maxBodyBytes: 64 * 1024,
      logger: log.logger,
      secureMemory,
    });
    client = await TestClient.create(server, { secureMemory });
  });

  afterAll(async () => {
    client.dispose();
    await server.close();
  });

  const request = chat(`secret prompt ${CANARY}`);

  it('answers 200 with the right API key', async () => {
    const { completion } = await client.complete(request, { apiKey: API_KEY });
    expect(completion.choices[0]!.message.content).toBe(`echo: secret prompt ${CANARY}`);
  });

  it('refuses a missing or wrong API key with 401', async () => {
    const missing = await client.post(request);
    expect(await expectRefusal(missing, 401)).toMatch(/API key/);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    await expectRefusal(client.post(request, { apiKey: `${API_KEY}x` }), 401);
    await expectRefusal(client.post(request, { apiKey: API_KEY.slice(0, -1) }), 401);
    await expectRefusal(client.post(request, { headers: { Authorization: API_KEY } }), 401);
    await expectRefusal(client.post(request, { headers: { Authorization: `Basic ${API_KEY}` } }), 401);
  });

  it('checks the API key before anything else', async () => {
    await expectRefusal(client.post(request, { tier: 'maximum', headers: { 'X-Public-Key': undefined } }), 401);
  });

  it('refuses the maximum tier with 503: there is no TPM', async () => {
    expect(await expectRefusal(client.post(request, { apiKey: API_KEY, tier: 'maximum' }), 503)).toMatch(/TPM/);
  });

  it('refuses an unknown tier with 400', async () => {
    for (const tier of ['ultra', 'Maximum', '']) {
      expect(await expectRefusal(client.post(request, { apiKey: API_KEY, tier }), 400)).toMatch(/X-Security-Tier/);
    }
  });

  it('refuses a missing or oversized X-Payload-ID with 400', async () => {
    expect(await expectRefusal(client.post(request, { apiKey: API_KEY, headers: { 'X-Payload-ID': undefined } }), 400)).toMatch(
      /X-Payload-ID/,
    );
    await expectRefusal(client.post(request, { apiKey: API_KEY, payloadId: 'p'.repeat(129) }), 400);
    const longest = await client.complete(request, { apiKey: API_KEY, payloadId: 'p'.repeat(128) });
    expect(longest.decoded.payloadId).toBe('p'.repeat(128));
  });

  it('refuses a missing or unusable X-Public-Key with 400', async () => {
    expect(await expectRefusal(client.post(request, { apiKey: API_KEY, headers: { 'X-Public-Key': undefined } }), 400)).toMatch(
      /X-Public-Key/,
    );
    const small = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' });
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
    for (const value of [
      'not a key',
      '%E0%A4%A', // malformed percent-encoding
      encodeURIComponent(small.toString()),
      encodeURIComponent(ec.toString()),
      encodeURIComponent(client.publicKeyPem.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n').slice(0, 200)),
    ]) {
      expect(await expectRefusal(client.post(request, { apiKey: API_KEY, headers: { 'X-Public-Key': value } }), 400)).toMatch(
        /X-Public-Key/,
      );
    }
  });

  it('refuses a tampered ciphertext with a 400 that says decrypt', async () => {
    const tamper = (body: string): string => {
      const pkg = JSON.parse(body) as { encrypted_payload: { ciphertext: string } };
      const bytes = Buffer.from(pkg.encrypted_payload.ciphertext, 'base64');
      bytes[0]! ^= 0x01;
      pkg.encrypted_payload.ciphertext = bytes.toString('base64');
      return JSON.stringify(pkg);
    };
    expect(await expectRefusal(client.post(request, { apiKey: API_KEY, tamper }), 400)).toMatch(/decrypt/);
  });

  it('refuses a package sealed to another key with a 400 that says decrypt', async () => {
    const other = await startReferenceServer({ port: 0, keyBits: 2048, secureMemory });
    const stranger = await TestClient.create(other, { secureMemory });
    try {
      const body = await stranger.seal(request);
      const answer = await httpCall(`${server.url}/v1/chat/secure_completion`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${API_KEY}`,
          'X-Payload-ID': crypto.randomUUID(),
          'X-Public-Key': encodeURIComponent(stranger.publicKeyPem),
        },
        body,
      });
      expect(await expectRefusal(answer, 400)).toBe('could not decrypt the payload with the server key');
    } finally {
      stranger.dispose();
      await other.close();
    }
  });

  it('refuses a malformed or incomplete package with 400', async () => {
    const malformed = await expectRefusal(client.post(request, { apiKey: API_KEY, tamper: (body) => body.slice(0, -5) }), 400);
    expect(malformed).toMatch(/^invalid package: /);
    const incomplete = (body: string): string => {
      const pkg = JSON.parse(body) as Record<string, unknown>;
      delete pkg.encrypted_aes_key;
      return JSON.stringify(pkg);
    };
    expect(await expectRefusal(client.post(request, { apiKey: API_KEY, tamper: incomplete }), 400)).toMatch(/encrypted_aes_key/);
    await expectRefusal(client.post(request, { apiKey: API_KEY, tamper: () => '[]' }), 400);
  });

  it('refuses a plaintext that is not a chat request with 400', async () => {
    for (const plaintext of [[CANARY], { messages: [] }, { model: CANARY, messages: CANARY }, CANARY]) {
      expect(await expectRefusal(client.post(plaintext, { apiKey: API_KEY }), 400)).toMatch(/model .* messages/);
    }
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    const headers = { Authorization: `Bearer ${API_KEY}`, 'X-Payload-ID': 'big', 'X-Public-Key': encodeURIComponent(client.publicKeyPem) };
    const url = `${server.url}/v1/chat/secure_completion`;
    const body = Buffer.alloc(64 * 1024 + 1, 0x61);
    expect(await expectRefusal(httpCall(url, { method: 'POST', headers, body }), 413)).toMatch(/exceeds/);
    await expectRefusal(httpCall(url, { method: 'POST', headers, body, chunked: true }), 413);
    // The server is still serving afterwards.
    await client.complete(request, { apiKey: API_KEY });
  });

  it('answers 404 for an unknown path and 405 for a wrong method', async () => {
    await expectRefusal(httpCall(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{}' }), 404);
    await expectRefusal(httpCall(`${server.url}/`), 404);
    const getCompletion = await httpCall(`${server.url}/v1/chat/secure_completion`);
    await expectRefusal(getCompletion, 405);
    expect(getCompletion.headers.allow).toBe('POST');
    const postKey = await httpCall(`${server.url}/pki/public_key`, { method: 'POST', body: 'x' });
    await expectRefusal(postKey, 405);
    expect(postKey.headers.allow).toBe('GET, HEAD');
  });

  it('never puts the plaintext, the API key or a key in an error body or a log line', () => {
    expect(answers.length).toBeGreaterThan(20);
    for (const answer of answers) {
      expect(answer.body).not.toContain(CANARY);
      expect(answer.body).not.toContain(API_KEY);
      expect(answer.body).not.toContain('BEGIN');
    }
    expect(log.lines.length).toBeGreaterThan(20);
    for (const line of log.lines) {
      expect(line).not.toContain(CANARY);
      expect(line).not.toContain(API_KEY);
      expect(line).not.toContain('BEGIN');
    }
  });

  it('logs the key fingerprint and each request by payload id, tier and status', async () => {
    const { payloadId } = await client.complete(request, { apiKey: API_KEY, tier: 'high' });
    expect(log.lines.some((line) => line.includes(server.fingerprint))).toBe(true);
    const line = log.lines.find((candidate) => candidate.includes(`payload_id=${payloadId}`));
    expect(line).toMatch(/status=200/);
    expect(line).toMatch(/tier=high/);
    expect(line).toMatch(/request_bytes=\d+ response_bytes=\d+/);
  });
});
