// HTTPS with a caller-supplied CA, certificate checks, and plain HTTP refused
// before any byte leaves the process.
import { APIConnectionError, InvalidRequestError, SecureChatCompletion, SecurityError } from '../../lib';
import type { ReferenceServer } from '../../lib/server';
import { CANARY_API_KEY, itLeaksNoSecretsInErrors, rejectionOf, thrownBy } from './support/canaries';
import { ask, captureLogger, echoOf } from './support/fixtures';
import { clientWithKeys, hasOpenssl, makeTempDir, removeTempDirs, writeKeyPair } from './support/keys';
import type { KeyFiles } from './support/keys';
import { startFaultServer, startReference } from './support/servers';
import type { FaultServer } from './support/servers';
import { makeTestCertificates } from './support/tls';
import type { TestCertificates } from './support/tls';

let keys: KeyFiles;

beforeAll(() => {
  keys = writeKeyPair(makeTempDir());
});

afterAll(() => {
  removeTempDirs();
});

describe('HTTPS with a test CA', () => {
  let certs: TestCertificates;
  let reference: ReferenceServer;
  /** The same certificate, on a server that counts what reaches it. */
  let counting: FaultServer;

  beforeAll(async () => {
    if (!hasOpenssl()) throw new Error('the openssl CLI is required for the HTTPS tests (apt-get install openssl)');
    certs = makeTestCertificates();
    reference = await startReference({ tls: { key: certs.serverKeyPem, cert: certs.serverCertPem } });
    counting = await startFaultServer({ tls: { key: certs.serverKeyPem, cert: certs.serverCertPem } });
  });

  afterAll(async () => {
    await reference.close();
    await counting.close();
  });

  it('serves the reference server on https://127.0.0.1', () => {
    expect(reference.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('round-trips with the CA given as `ca`', async () => {
    const client = await clientWithKeys(keys, { baseUrl: reference.url, ca: certs.caPem, apiKey: CANARY_API_KEY });
    try {
      const response = await client.create(ask('over TLS', { security_tier: 'high' }));
      expect(response.choices[0]!.message.content).toBe(echoOf('over TLS'));
      expect(response._metadata.security_tier).toBe('high');
      expect(await client.serverKeyFingerprint()).toBe(reference.fingerprint);
    } finally {
      client.close();
    }
  });

  it('takes the CA as a Buffer too', async () => {
    const client = await clientWithKeys(keys, { baseUrl: reference.url, ca: Buffer.from(certs.caPem) });
    try {
      expect((await client.create(ask('CA as Buffer'))).choices[0]!.message.content).toBe(echoOf('CA as Buffer'));
    } finally {
      client.close();
    }
  });

  it('refuses the certificate without the CA: APIConnectionError naming the certificate problem, and no request gets through', async () => {
    const client = await clientWithKeys(keys, { baseUrl: counting.url, apiKey: CANARY_API_KEY, maxRetries: 0 });
    try {
      const error = await rejectionOf(client.create(ask('untrusted')));
      expect(error).toBeInstanceOf(APIConnectionError);
      expect(error.message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|CERT/);
      expect(counting.requests).toHaveLength(0);
    } finally {
      client.close();
    }
  });

  it('refuses a certificate for another name, even from the trusted CA', async () => {
    const otherName = await startFaultServer({ tls: { key: certs.otherNameKeyPem, cert: certs.otherNameCertPem } });
    const client = await clientWithKeys(keys, { baseUrl: otherName.url, ca: certs.caPem, maxRetries: 0 });
    try {
      const error = await rejectionOf(client.create(ask('wrong name')));
      expect(error).toBeInstanceOf(APIConnectionError);
      expect(error.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
      expect(otherName.requests).toHaveLength(0);
    } finally {
      client.close();
      await otherName.close();
    }
  });
});

describe('plain HTTP', () => {
  let plain: FaultServer;

  beforeAll(async () => {
    plain = await startFaultServer();
  });

  afterAll(async () => {
    await plain.close();
  });

  it('is refused in the constructor without allowHttp: SecurityError', () => {
    const error = thrownBy(() => new SecureChatCompletion({ baseUrl: plain.url, apiKey: CANARY_API_KEY }));
    expect(error).toBeInstanceOf(SecurityError);
    expect((error as SecurityError).code).toBe('NOMYO_HTTP_REFUSED');
    expect(error.message).toMatch(/allowHttp/);
    expect(plain.connections).toBe(0);
  });

  it('is refused per call (base_url) without allowHttp: SecurityError, before any byte is sent', async () => {
    const client = await clientWithKeys(keys, { baseUrl: 'https://127.0.0.1:9', apiKey: CANARY_API_KEY });
    try {
      const error = await rejectionOf(client.create(ask('downgrade', { base_url: plain.url })));
      expect(error).toBeInstanceOf(SecurityError);
      expect((error as SecurityError).code).toBe('NOMYO_HTTP_REFUSED');
      expect(plain.connections).toBe(0);
      expect(plain.requests).toHaveLength(0);
    } finally {
      client.close();
    }
  });

  it('is refused per call even before the client has a key: nothing is generated, fetched or sent', async () => {
    const log = captureLogger();
    const client = new SecureChatCompletion({ baseUrl: 'https://127.0.0.1:9', logger: log.logger });
    try {
      const error = await rejectionOf(client.acreate(ask('downgrade', { base_url: plain.url })));
      expect(error).toBeInstanceOf(SecurityError);
      expect(plain.connections).toBe(0);
      expect(log.text()).not.toMatch(/key generated|server key fetched|sending/);
    } finally {
      client.close();
    }
  });

  it('works with allowHttp, in the constructor and per call', async () => {
    const client = await clientWithKeys(keys, { baseUrl: plain.url, allowHttp: true });
    try {
      expect((await client.create(ask('allowed'))).choices[0]!.message.content).toBe(echoOf('allowed'));
      expect((await client.create(ask('allowed per call', { base_url: plain.url }))).choices[0]!.message.content).toBe(
        echoOf('allowed per call'),
      );
      expect(plain.posts).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  it('refuses other schemes with SecurityError and a malformed URL with InvalidRequestError', async () => {
    for (const baseUrl of ['ftp://127.0.0.1/', 'file:///etc/passwd', 'ws://127.0.0.1:1/']) {
      const error = thrownBy(() => new SecureChatCompletion({ baseUrl, allowHttp: true }));
      expect(error).toBeInstanceOf(SecurityError);
      expect((error as SecurityError).code).toBe('NOMYO_BAD_URL');
    }
    const malformed = thrownBy(() => new SecureChatCompletion({ baseUrl: 'not a url' }));
    expect(malformed).toBeInstanceOf(InvalidRequestError);
    const client = await clientWithKeys(keys, { baseUrl: plain.url, allowHttp: true });
    try {
      const error = await rejectionOf(client.create(ask('bad per-call URL', { base_url: '://nowhere' })));
      expect(error).toBeInstanceOf(InvalidRequestError);
    } finally {
      client.close();
    }
  });

  it('defaults to the hosted https endpoint, which needs no allowHttp', () => {
    expect(() => new SecureChatCompletion()).not.toThrow();
  });
});

itLeaksNoSecretsInErrors();
