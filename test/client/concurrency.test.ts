// Many calls at once: one key generation for concurrent first calls, and every
// answer reaching the call that asked for it.
import { SecureChatCompletion } from '../../lib';
import type { ReferenceServer } from '../../lib/server';
import { itLeaksNoSecretsInErrors, rejectionOf } from './support/canaries';
import { ask, captureLogger, echoOf, UUID_V4 } from './support/fixtures';
import { clientWithKeys, makeTempDir, removeTempDirs, writeKeyPair } from './support/keys';
import { headerOf, startFaultServer, startReference } from './support/servers';

afterAll(() => {
  removeTempDirs();
});

describe('concurrent first use', () => {
  it('20 concurrent create() calls on a client with no keys: all succeed on one generated key', async () => {
    const fault = await startFaultServer();
    const log = captureLogger();
    const client = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true, logger: log.logger });
    try {
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => client.create(ask(`first use ${i}`))));
      responses.forEach((response, i) => expect(response.choices[0]!.message.content).toBe(echoOf(`first use ${i}`)));
      expect(fault.posts).toHaveLength(20);
      const publicKeys = new Set(fault.posts.map((seen) => headerOf(seen, 'x-public-key')));
      expect(publicKeys.size).toBe(1);
      expect(log.lines.filter((line) => /client key generated/.test(line.message))).toHaveLength(1);
      expect(log.text()).toMatch(/client key generated: RSA-4096/);
      expect(fault.keyFetches).toHaveLength(1);
      // Later calls keep the same key.
      await client.create(ask('later'));
      expect(headerOf(fault.posts.at(-1)!, 'x-public-key')).toBe([...publicKeys][0]);
    } finally {
      client.close();
      await fault.close();
    }
  });
});

describe('load', () => {
  let reference: ReferenceServer;

  beforeAll(async () => {
    reference = await startReference();
  });

  afterAll(async () => {
    await reference.close();
  });

  it('200 requests in flight at once on one client: each gets its own answer and payload id', async () => {
    const client = await clientWithKeys(writeKeyPair(makeTempDir()), { baseUrl: reference.url, allowHttp: true });
    try {
      const count = 200;
      const tiers = ['standard', 'high', undefined] as const;
      const responses = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          client.create(ask(`request number ${i} ${'x'.repeat(i)}`, tiers[i % 3] ? { security_tier: tiers[i % 3] } : {})),
        ),
      );
      responses.forEach((response, i) => {
        expect(response.choices[0]!.message.content).toBe(echoOf(`request number ${i} ${'x'.repeat(i)}`));
        expect(response._metadata.security_tier).toBe(tiers[i % 3] ?? null);
        expect(response._metadata.payload_id).toMatch(UUID_V4);
      });
      expect(new Set(responses.map((response) => response._metadata.payload_id)).size).toBe(count);
      expect(new Set(responses.map((response) => response.id)).size).toBe(count);
    } finally {
      client.close();
    }
  });

  it('a failing call among many does not disturb the others', async () => {
    const client = await clientWithKeys(writeKeyPair(makeTempDir()), { baseUrl: reference.url, allowHttp: true, maxRetries: 0 });
    try {
      const calls = Array.from({ length: 30 }, (_, i) =>
        i % 10 === 5
          ? rejectionOf(client.create(ask(`maximum ${i}`, { security_tier: 'maximum' })))
          : client.create(ask(`fine ${i}`)),
      );
      const results = await Promise.all(calls);
      results.forEach((result, i) => {
        if (i % 10 === 5) expect((result as Error).name).toBe('ServiceUnavailableError');
        else expect((result as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(echoOf(`fine ${i}`));
      });
    } finally {
      client.close();
    }
  });
});

itLeaksNoSecretsInErrors();
