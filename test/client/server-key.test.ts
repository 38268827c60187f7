// The server's public key: fetched once per client and base URL, checked, pinned.
import * as crypto from 'node:crypto';
import { publicKeyFingerprint, SecureChatCompletion, SecurityError, ServiceUnavailableError } from '../../lib';
import type { ReferenceServer } from '../../lib/server';
import { CANARY_API_KEY, itLeaksNoSecretsInErrors, rejectionOf, thrownBy } from './support/canaries';
import { ask, echoOf } from './support/fixtures';
import { clientWithKeys, makeTempDir, removeTempDirs, writeKeyPair } from './support/keys';
import type { KeyFiles } from './support/keys';
import { startFaultServer, startReference } from './support/servers';
import type { FaultServer } from './support/servers';

let keys: KeyFiles;
let reference: ReferenceServer;

beforeAll(async () => {
  keys = writeKeyPair(makeTempDir());
  reference = await startReference();
});

afterAll(async () => {
  await reference.close();
  removeTempDirs();
});

describe('fetching the server key', () => {
  let fault: FaultServer;

  beforeEach(async () => {
    fault = await startFaultServer();
  });

  afterEach(async () => {
    await fault.close();
  });

  it('fetches it once per client, however many calls, concurrent or not', async () => {
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    try {
      const concurrent = await Promise.all(Array.from({ length: 10 }, (_, i) => client.create(ask(`concurrent ${i}`))));
      concurrent.forEach((response, i) => expect(response.choices[0]!.message.content).toBe(echoOf(`concurrent ${i}`)));
      for (let i = 0; i < 5; i++) await client.create(ask(`sequential ${i}`));
      expect(fault.keyFetches).toHaveLength(1);
      expect(fault.posts).toHaveLength(15);
      expect(await client.serverKeyFingerprint()).toBe(fault.fingerprint);
      expect(fault.keyFetches).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it('fetches it once per client: another client fetches its own', async () => {
    const one = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    const two = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    try {
      await one.create(ask('one'));
      await two.create(ask('two'));
      await one.create(ask('one again'));
      expect(fault.keyFetches).toHaveLength(2);
    } finally {
      one.close();
      two.close();
    }
  });

  it('keeps one key per base URL', async () => {
    const other = await startFaultServer();
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    try {
      for (let i = 0; i < 3; i++) {
        await client.create(ask(`default ${i}`));
        const response = await client.create(ask(`other ${i}`, { base_url: other.url }));
        expect(response.choices[0]!.message.content).toBe(echoOf(`other ${i}`));
      }
      expect(fault.keyFetches).toHaveLength(1);
      expect(other.keyFetches).toHaveLength(1);
      expect(other.posts).toHaveLength(3);
    } finally {
      client.close();
      await other.close();
    }
  });

  it('does not keep a failed fetch: the next call fetches again', async () => {
    fault.onKey = (exchange) => {
      if (exchange.index === 0) exchange.sendError(503, 'warming up');
      else exchange.send(200, fault.publicKeyPem);
    };
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, maxRetries: 0 });
    try {
      const error = await rejectionOf(client.create(ask('too early')));
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(fault.posts).toHaveLength(0);
      const response = await client.create(ask('now'));
      expect(response.choices[0]!.message.content).toBe(echoOf('now'));
      expect(fault.keyFetches).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  // Concurrent calls share one key fetch; one caller's abort must end only its
  // own wait, not the fetch the others are waiting on.
  it('one caller aborting does not fail another call waiting on the same key fetch', async () => {
    let arrived: () => void = () => undefined;
    let release: () => void = () => undefined;
    const keyRequested = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    fault.onKey = async (exchange) => {
      arrived();
      await released;
      exchange.send(200, fault.publicKeyPem);
    };
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, maxRetries: 0 });
    try {
      const controller = new AbortController();
      const aborted = rejectionOf(client.create(ask('aborted caller'), { signal: controller.signal }));
      const patient = client.create(ask('patient caller'));
      await keyRequested;
      controller.abort();
      expect((await aborted).name).toBe('APIUserAbortError');
      release();
      expect((await patient).choices[0]!.message.content).toBe(echoOf('patient caller'));
    } finally {
      release();
      client.close();
    }
  });

  const unusableKeys: Array<[string, () => string]> = [
    ['an RSA key of 1024 bits', () => crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    ['an RSA key of 2047 bits', () => crypto.generateKeyPairSync('rsa', { modulusLength: 2047 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    ['an EC P-256 key', () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    ['an Ed25519 key', () => crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    ['text that is not a key', () => 'hello, I am not a key'],
    ['a PEM block of garbage', () => '-----BEGIN PUBLIC KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PUBLIC KEY-----\n'],
    ['an empty body', () => ''],
  ];

  it.each(unusableKeys)('refuses %s with SecurityError, and posts nothing', async (_what, makeBody) => {
    const body = makeBody();
    fault.onKey = (exchange) => exchange.send(200, body);
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, apiKey: CANARY_API_KEY });
    try {
      const error = await rejectionOf(client.create(ask('to a bad key')));
      expect(error).toBeInstanceOf(SecurityError);
      expect((error as SecurityError).code).toBe('NOMYO_SERVER_KEY_INVALID');
      expect(fault.keyFetches).toHaveLength(1);
      expect(fault.posts).toHaveLength(0);
    } finally {
      client.close();
    }
  });

  it('refuses a private key served in place of the public key, and posts nothing', async () => {
    const body = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    fault.onKey = (exchange) => exchange.send(200, body);
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    try {
      const error = await rejectionOf(client.create(ask('to a private key')));
      expect(error).toBeInstanceOf(SecurityError);
      expect(fault.posts).toHaveLength(0);
    } finally {
      client.close();
    }
  });
});

describe('pinning the server key', () => {
  it("works with the reference server's own fingerprint", async () => {
    const client = await clientWithKeys(keys, { baseUrl: reference.url, allowHttp: true, serverKeyFingerprint: reference.fingerprint });
    try {
      const response = await client.create(ask('pinned'));
      expect(response.choices[0]!.message.content).toBe(echoOf('pinned'));
    } finally {
      client.close();
    }
  });

  it('works with the fingerprint client.serverKeyFingerprint() reports', async () => {
    const unpinned = await clientWithKeys(keys, { baseUrl: reference.url, allowHttp: true });
    const fingerprint = await unpinned.serverKeyFingerprint();
    unpinned.close();
    expect(fingerprint).toBe(reference.fingerprint);
    expect(fingerprint).toBe(publicKeyFingerprint(reference.publicKeyPem));
    expect(fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const pinned = await clientWithKeys(keys, { baseUrl: reference.url, allowHttp: true, serverKeyFingerprint: fingerprint });
    try {
      expect((await pinned.create(ask('pinned by report'))).choices[0]!.message.content).toBe(echoOf('pinned by report'));
    } finally {
      pinned.close();
    }
  });

  it('accepts the fingerprint in upper case and with colons between bytes', async () => {
    const hex = reference.fingerprint.slice('sha256:'.length);
    for (const pin of [`sha256:${hex.toUpperCase()}`, `sha256:${hex.match(/../g)!.join(':')}`]) {
      const client = await clientWithKeys(keys, { baseUrl: reference.url, allowHttp: true, serverKeyFingerprint: pin });
      try {
        expect((await client.create(ask('pin format'))).choices[0]!.message.content).toBe(echoOf('pin format'));
      } finally {
        client.close();
      }
    }
  });

  it('refuses a key that does not match the pin: SecurityError, and nothing is posted, call after call', async () => {
    const fault = await startFaultServer();
    const client = await clientWithKeys(keys, {
      baseUrl: fault.url,
      allowHttp: true,
      apiKey: CANARY_API_KEY,
      serverKeyFingerprint: reference.fingerprint,
    });
    try {
      for (let i = 0; i < 2; i++) {
        const error = await rejectionOf(client.create(ask('mismatch')));
        expect(error).toBeInstanceOf(SecurityError);
        expect((error as SecurityError).code).toBe('NOMYO_SERVER_KEY_MISMATCH');
      }
      const error = await rejectionOf(client.serverKeyFingerprint());
      expect(error).toBeInstanceOf(SecurityError);
      expect(fault.keyFetches.length).toBeGreaterThan(0);
      expect(fault.posts).toHaveLength(0);
    } finally {
      client.close();
      await fault.close();
    }
  });

  it('holds the pin for a per-call base_url too', async () => {
    const fault = await startFaultServer();
    const client = await clientWithKeys(keys, { baseUrl: reference.url, allowHttp: true, serverKeyFingerprint: reference.fingerprint });
    try {
      expect((await client.create(ask('to the pinned server'))).choices[0]!.message.content).toBe(echoOf('to the pinned server'));
      const error = await rejectionOf(client.create(ask('elsewhere', { base_url: fault.url })));
      expect(error).toBeInstanceOf(SecurityError);
      expect((error as SecurityError).code).toBe('NOMYO_SERVER_KEY_MISMATCH');
      expect(fault.posts).toHaveLength(0);
    } finally {
      client.close();
      await fault.close();
    }
  });

  it.each([['sha256:abc'], ['md5:' + 'a'.repeat(32)], ['a'.repeat(64)], ['sha256:' + 'g'.repeat(64)], ['']])(
    'refuses the malformed pin %p when the client is made',
    (pin) => {
      const error = thrownBy(() => new SecureChatCompletion({ baseUrl: reference.url, allowHttp: true, serverKeyFingerprint: pin }));
      expect(error).toBeInstanceOf(SecurityError);
      expect((error as SecurityError).code).toBe('NOMYO_BAD_FINGERPRINT');
    },
  );
});

itLeaksNoSecretsInErrors();
