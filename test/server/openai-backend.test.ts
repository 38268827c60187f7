import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startReferenceServer } from '../../lib/server';
import type { ReferenceServer } from '../../lib/server';
import { chat, detailOf, TestClient } from './support';

const CANARY = 'CANARY-upstream-91e2';
const UPSTREAM_KEY = 'upstream-key-5c8d';

interface Received {
  authorization: string | undefined;
  path: string | undefined;
  body: Record<string, unknown>;
}

type Reply = (received: Received, res: http.ServerResponse) => void;

/** A stand-in for the OpenAI-compatible server the reference server forwards to. */
async function startFakeUpstream(): Promise<{ url: string; received: Received[]; reply: { next: Reply }; close(): Promise<void> }> {
  const received: Received[] = [];
  const reply: { next: Reply } = { next: () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = {
        authorization: req.headers.authorization,
        path: req.url,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      };
      received.push(entry);
      reply.next(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    reply,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function upstreamCompletion(model: string, content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'chatcmpl-upstream',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    ...extra,
  };
}

describe('reference server with the openai backend', () => {
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let server: ReferenceServer;
  let client: TestClient;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    server = await startReferenceServer({
      port: 0,
      keyBits: 2048,
      backend: 'openai',
      upstreamUrl: `${upstream.url}/`,
      upstreamApiKey: UPSTREAM_KEY,
    });
    client = await TestClient.create(server);
  });

  afterAll(async () => {
    client.dispose();
    await server.close();
    await upstream.close();
  });

  it('forwards the decrypted request and seals the upstream answer', async () => {
    upstream.reply.next = (received, res) => json(res, 200, upstreamCompletion(String(received.body.model), 'from upstream ✓'));
    const request = { ...chat('hello upstream ✓', 'Qwen/Qwen3-0.6B'), temperature: 0.5, max_tokens: 7 };
    const { completion, payloadId } = await client.complete(request, { tier: 'high' });
    expect(completion.id).toBe('chatcmpl-upstream');
    expect(completion.choices[0]!.message.content).toBe('from upstream ✓');
    expect(completion._metadata).toEqual({
      payload_id: payloadId,
      processed_at: expect.any(String),
      tpm_attestation: { is_available: false },
    });
    const forwarded = upstream.received.at(-1)!;
    expect(forwarded.path).toBe('/v1/chat/completions');
    expect(forwarded.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(forwarded.body).toEqual({ ...request, stream: false });
  });

  it("keeps the upstream's own _metadata but not its claims about this server", async () => {
    upstream.reply.next = (received, res) =>
      json(
        res,
        200,
        upstreamCompletion(String(received.body.model), 'ok', {
          _metadata: { served_by: 'gpu-3', payload_id: 'forged', tpm_attestation: { is_available: true } },
        }),
      );
    const { completion, payloadId } = await client.complete(chat('metadata'));
    expect(completion._metadata).toEqual({
      served_by: 'gpu-3',
      payload_id: payloadId,
      processed_at: expect.any(String),
      tpm_attestation: { is_available: false },
    });
  });

  it('answers 502 without the upstream body when the upstream fails', async () => {
    const failures: Reply[] = [
      (_received, res) => json(res, 500, { error: { message: `model crashed on: ${CANARY}` } }),
      (_received, res) => json(res, 401, `invalid key ${CANARY}`),
      (_received, res) => json(res, 200, `not json ${CANARY}`),
      (_received, res) => json(res, 200, { detail: CANARY }),
      (_received, res) => res.destroy(),
    ];
    for (const failure of failures) {
      upstream.reply.next = failure;
      const answer = await client.post(chat(`prompt ${CANARY}`));
      expect(answer.status).toBe(502);
      expect(detailOf(answer)).toMatch(/upstream/);
      expect(answer.body).not.toContain(CANARY);
      expect(answer.body).not.toContain(UPSTREAM_KEY);
    }
  });

  it('answers 502 when the upstream cannot be reached', async () => {
    const unreachable = await startFakeUpstream();
    await unreachable.close();
    const orphan = await startReferenceServer({ port: 0, keyBits: 2048, backend: 'openai', upstreamUrl: unreachable.url });
    const orphanClient = await TestClient.create(orphan);
    try {
      const answer = await orphanClient.post(chat('anyone there?'));
      expect(answer.status).toBe(502);
      expect(detailOf(answer)).toMatch(/could not be reached/);
    } finally {
      orphanClient.dispose();
      await orphan.close();
    }
  });

  it('refuses to start without an upstream URL', async () => {
    await expect(startReferenceServer({ port: 0, keyBits: 2048, backend: 'openai' })).rejects.toThrow(/upstreamUrl/);
    await expect(startReferenceServer({ port: 0, keyBits: 2048, backend: 'openai', upstreamUrl: 'ftp://x' })).rejects.toThrow(
      /http/,
    );
  });
});
