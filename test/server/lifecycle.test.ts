import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startReferenceServer } from '../../lib/server';
import type { Logger } from '../../lib/logging';
import { chat, detailOf, httpCall, TestClient } from './support';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('reference server lifecycle and transport', () => {
  it('closes while a keep-alive connection sits idle', async () => {
    const server = await startReferenceServer({ port: 0, keyBits: 2048 });
    const agent = new http.Agent({ keepAlive: true });
    try {
      const answer = await new Promise<number>((resolve, reject) => {
        http.get(`${server.url}/pki/public_key`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
      expect(answer).toBe(200);
      expect(Object.keys(agent.freeSockets)).toHaveLength(1);
      await server.close();
    } finally {
      agent.destroy();
    }
  });

  it('finishes a request in flight at close, then closes its connection', async () => {
    let release: () => void = () => undefined;
    let arrived: () => void = () => undefined;
    const upstreamReached = new Promise<void>((resolve) => (arrived = resolve));
    const upstream = http.createServer((req, res) => {
      req.resume();
      release = () => {
        const body = JSON.stringify({
          id: 'chatcmpl-slow',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: 'late but here' }, finish_reason: 'stop' }],
        });
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
      };
      arrived();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const server = await startReferenceServer({ port: 0, keyBits: 2048, backend: 'openai', upstreamUrl });
    const client = await TestClient.create(server);
    try {
      const pending = client.post(chat('slow one'));
      await upstreamReached;
      const closed = server.close();
      release();
      const answer = await pending;
      expect(answer.headers.connection).toBe('close');
      expect((await client.open(answer)).completion.choices[0]!.message.content).toBe('late but here');
      await closed;
    } finally {
      client.dispose();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });

  it('shrugs off a client that leaves halfway through its body', async () => {
    const lines: string[] = [];
    let sawAbandoned: () => void = () => undefined;
    const abandoned = new Promise<void>((resolve) => (sawAbandoned = resolve));
    const keep = (line: string): void => {
      lines.push(line);
      if (line.includes('connection closed before the answer')) sawAbandoned();
    };
    const logger: Logger = { debug: keep, info: keep, warn: keep, error: keep };
    const server = await startReferenceServer({ port: 0, keyBits: 2048, logger });
    const client = await TestClient.create(server);
    try {
      const socket = net.connect(server.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      // Half a body, then the end of the connection.
      socket.end(
        'POST /v1/chat/secure_completion HTTP/1.1\r\nHost: x\r\nX-Payload-ID: gone\r\n' +
          `X-Public-Key: ${encodeURIComponent(client.publicKeyPem)}\r\nContent-Length: 1000\r\n\r\n{"version"`,
      );
      await abandoned;
      expect(lines.some((line) => line.includes('internal error'))).toBe(false);
      const { completion } = await client.complete(chat('still here'));
      expect(completion.choices[0]!.message.content).toBe('echo: still here');
    } finally {
      client.dispose();
      await server.close();
    }
  });

  it('answers HEAD on the public key path, and oversized headers with JSON 431', async () => {
    const server = await startReferenceServer({ port: 0, keyBits: 2048 });
    try {
      const head = await httpCall(`${server.url}/pki/public_key`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      const huge = await httpCall(`${server.url}/pki/public_key`, { headers: { 'X-Filler': 'x'.repeat(64 * 1024) } });
      expect(huge.status).toBe(431);
      expect(detailOf(huge)).toMatch(/headers/);
    } finally {
      await server.close();
    }
  });

  it('refuses invalid options before listening', async () => {
    await expect(startReferenceServer({ port: 70000, keyBits: 2048 })).rejects.toThrow(/port/);
    await expect(startReferenceServer({ port: 0, keyBits: 2048, apiKey: '' })).rejects.toThrow(/apiKey/);
    await expect(startReferenceServer({ port: 0, keyBits: 2048, maxBodyBytes: -1 })).rejects.toThrow(/maxBodyBytes/);
  });

  it('reports a port already in use', async () => {
    const first = await startReferenceServer({ port: 0, keyBits: 2048 });
    try {
      await expect(startReferenceServer({ port: first.port, keyBits: 2048 })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  (hasOpenssl() ? it : it.skip)('serves HTTPS when given a certificate', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nomyo-server-tls-'));
    try {
      const keyFile = path.join(dir, 'tls.key');
      const certFile = path.join(dir, 'tls.crt');
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        { stdio: 'ignore' },
      );
      const cert = fs.readFileSync(certFile, 'utf8');
      const server = await startReferenceServer({ port: 0, keyBits: 2048, tls: { key: fs.readFileSync(keyFile), cert } });
      const client = await TestClient.create(server, { ca: cert });
      try {
        expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
        const { completion } = await client.complete(chat('over TLS'));
        expect(completion.choices[0]!.message.content).toBe('echo: over TLS');
      } finally {
        client.dispose();
        await server.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
