// _metadata: what the client adds to the decrypted response, what it keeps of
// the server's, and what memory protection it reports.
import { getMemoryProtectionInfo, SecureChatCompletion } from '../../lib';
import type { ChatCompletion } from '../../lib';
import { decodePackage } from '../../lib/protocol/package';
import type { ReferenceServer } from '../../lib/server';
import { itLeaksNoSecretsInErrors, rejectionOf } from './support/canaries';
import { ask, echoOf, fallbackForced, itFallback, itNative, nativeInUse } from './support/fixtures';
import { clientWithKeys, makeTempDir, removeTempDirs, writeKeyPair } from './support/keys';
import type { KeyFiles } from './support/keys';
import { echoCompletion, headerOf, startFaultServer, startRecordingProxy, startReference } from './support/servers';
import type { FaultServer, RecordingProxy } from './support/servers';

let reference: ReferenceServer;
let proxy: RecordingProxy;
let keys: KeyFiles;
let client: SecureChatCompletion;

beforeAll(async () => {
  reference = await startReference();
  proxy = await startRecordingProxy(reference.url);
  keys = writeKeyPair(makeTempDir());
  client = await clientWithKeys(keys, { baseUrl: proxy.url, allowHttp: true });
});

afterAll(async () => {
  client.close();
  await proxy.close();
  await reference.close();
  removeTempDirs();
});

async function lastExchange(): Promise<{ payloadId: string; responsePackage: ReturnType<typeof decodePackage> }> {
  const seen = proxy.requests.at(-1)!;
  const answer = await proxy.responses.at(-1)!;
  expect(answer.status).toBe(200);
  return { payloadId: headerOf(seen, 'x-payload-id')!, responsePackage: decodePackage(answer.body) };
}

describe('_metadata from the reference server', () => {
  it('names the payload id the server saw, the package processed_at, the algorithm and the tier', async () => {
    const response = await client.create(ask('metadata', { security_tier: 'high' }));
    const { payloadId, responsePackage } = await lastExchange();
    expect(response._metadata.payload_id).toBe(payloadId);
    expect(responsePackage.payloadId).toBe(payloadId);
    expect(response._metadata.processed_at).toBe(responsePackage.processedAt);
    expect(new Date(response._metadata.processed_at as string).toISOString()).toBe(response._metadata.processed_at);
    expect(response._metadata.is_encrypted).toBe(true);
    expect(response._metadata.encryption_algorithm).toBe('hybrid-aes256-rsa4096');
    expect(response._metadata.security_tier).toBe('high');
  });

  it('says security_tier null when the caller chose none', async () => {
    const response = await client.create(ask('no tier'));
    expect(response._metadata.security_tier).toBeNull();
    expect(headerOf(proxy.requests.at(-1)!, 'x-security-tier')).toBeUndefined();
  });

  it("keeps the server's tpm_attestation", async () => {
    const response = await client.create(ask('attestation', { security_tier: 'standard' }));
    // The client attaches its verdict (attestation: 'verify' is the default).
    expect(response._metadata.tpm_attestation).toMatchObject({
      is_available: false,
      verification: { verified: false, failure: 'attestation not available' },
    });
  });

  it('has exactly the documented fields', async () => {
    const response = await client.create(ask('fields'));
    expect(Object.keys(response._metadata).sort()).toEqual(
      ['encryption_algorithm', 'is_encrypted', 'memory_protection', 'payload_id', 'processed_at', 'security_tier', 'tpm_attestation'].sort(),
    );
    expect(Object.keys(response._metadata.memory_protection).sort()).toEqual(
      [
        'core_dump_excluded',
        'method',
        'native_addon',
        'plaintext_wiped',
        'request_plaintext_bytes',
        'request_plaintext_locked',
        'request_plaintext_locked_bytes',
        'response_plaintext_bytes',
        'response_plaintext_locked',
        'response_plaintext_locked_bytes',
        'returned_object',
      ].sort(),
    );
    expect(response._metadata.memory_protection.returned_object).toBe('caller-owned');
  });
});

/** What a response reports when no addon protected it: nothing locked, nothing wiped for sure. */
function noAddonProtection(): Record<string, unknown> {
  return {
    native_addon: false,
    method: 'none',
    request_plaintext_locked: false,
    response_plaintext_locked: false,
    request_plaintext_bytes: expect.any(Number),
    request_plaintext_locked_bytes: 0,
    response_plaintext_bytes: expect.any(Number),
    response_plaintext_locked_bytes: 0,
    core_dump_excluded: false,
    plaintext_wiped: false,
    returned_object: 'caller-owned',
  };
}

describe('_metadata.memory_protection', () => {
  it('is on the native addon unless NOMYO_FORCE_FALLBACK=1 is set', () => {
    expect(nativeInUse()).toBe(!fallbackForced);
  });

  itNative('reports the native addon with the request and response plaintext locked', async () => {
    const info = getMemoryProtectionInfo();
    expect(info.method).toBe('mlock'); // the lock works here; otherwise the flags below must be false
    const response = await client.create(ask('protected'));
    const protection = response._metadata.memory_protection;
    expect(protection).toEqual({
      native_addon: true,
      method: 'mlock',
      request_plaintext_locked: true,
      response_plaintext_locked: true,
      request_plaintext_bytes: expect.any(Number),
      request_plaintext_locked_bytes: protection.request_plaintext_bytes,
      response_plaintext_bytes: expect.any(Number),
      response_plaintext_locked_bytes: protection.response_plaintext_bytes,
      core_dump_excluded: info.core_dump_excluded,
      plaintext_wiped: true,
      returned_object: 'caller-owned',
    });
    expect(protection.request_plaintext_bytes).toBeGreaterThan(0);
    expect(protection.response_plaintext_bytes).toBeGreaterThan(0);
  });

  itFallback('reports no addon and nothing locked on the node:crypto fallback', async () => {
    const response = await client.create(ask('fallback'));
    expect(response._metadata.memory_protection).toEqual(noAddonProtection());
  });

  it('reports no addon and nothing locked with secureMemory: false, whatever is loaded', async () => {
    const plain = await clientWithKeys(keys, { baseUrl: proxy.url, allowHttp: true, secureMemory: false });
    try {
      const response = await plain.create(ask('secureMemory false'));
      expect(response.choices[0]!.message.content).toBe(echoOf('secureMemory false'));
      expect(response._metadata.memory_protection).toEqual(noAddonProtection());
    } finally {
      plain.close();
    }
  });
});

describe('_metadata with what other servers send', () => {
  let fault: FaultServer;

  beforeAll(async () => {
    fault = await startFaultServer();
  });

  afterAll(async () => {
    await fault.close();
  });

  async function answerWith(metadata: unknown, extra: Record<string, string | number> | undefined): Promise<ChatCompletion> {
    fault.onPost = async (exchange) => {
      const opened = await exchange.open();
      const completion = { ...echoCompletion(opened.plaintext), ...(metadata === undefined ? {} : { _metadata: metadata }) };
      exchange.sendPackage(await exchange.seal(completion, opened.clientKey, extra ?? { payload_id: opened.payloadId }));
    };
    const other = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    try {
      return await other.create(ask('other server', { security_tier: 'high' }));
    } finally {
      other.close();
    }
  }

  it("keeps the server's own fields, including a full tpm_attestation, and puts its own facts over the server's claims", async () => {
    const attestation = {
      is_available: true,
      pcr_banks: 'sha256:0,7,10',
      pcr_values: { sha256: { '0': 'aa'.repeat(32), '7': 'bb'.repeat(32), '10': 'cc'.repeat(32) } },
      aik_pubkey_b64: 'AAAA',
      quote_b64: 'BBBB',
      signature_b64: 'CCCC',
    };
    const response = await answerWith(
      {
        tpm_attestation: attestation,
        server_region: 'eu-central',
        model_revision: 7,
        is_encrypted: false,
        security_tier: 'standard',
        memory_protection: 'claimed by the server',
        encryption_algorithm: 'rot13',
      },
      undefined,
    );
    const posted = headerOf(fault.posts.at(-1)!, 'x-payload-id');
    expect(response._metadata).toMatchObject({
      tpm_attestation: attestation,
      server_region: 'eu-central',
      model_revision: 7,
      payload_id: posted,
      is_encrypted: true,
      security_tier: 'high',
      encryption_algorithm: 'hybrid-aes256-rsa4096',
    });
    expect(response._metadata.memory_protection).toMatchObject({ native_addon: nativeInUse(), returned_object: 'caller-owned' });
  });

  it('creates _metadata when the server sent none, and leaves processed_at out when the package has none', async () => {
    const response = await answerWith(undefined, undefined);
    expect(response._metadata.payload_id).toBe(headerOf(fault.posts.at(-1)!, 'x-payload-id'));
    expect(response._metadata.is_encrypted).toBe(true);
    expect(response._metadata).not.toHaveProperty('processed_at');
    expect(response._metadata).not.toHaveProperty('tpm_attestation');
  });

  it('replaces a _metadata that is not an object', async () => {
    const response = await answerWith('not an object', undefined);
    expect(response._metadata).toMatchObject({ is_encrypted: true, security_tier: 'high' });
  });

  it('accepts a package without payload_id (the protocol makes it optional) and names its own', async () => {
    const response = await answerWith(undefined, { processed_at: '2026-01-01T00:00:00.000Z' });
    expect(response._metadata.payload_id).toBe(headerOf(fault.posts.at(-1)!, 'x-payload-id'));
    expect(response._metadata.processed_at).toBe('2026-01-01T00:00:00.000Z');
  });

  it('refuses a response that is JSON but not an object', async () => {
    fault.onPost = async (exchange) => {
      const opened = await exchange.open();
      exchange.sendPackage(await exchange.seal([echoCompletion(opened.plaintext)], opened.clientKey, { payload_id: opened.payloadId }));
    };
    const other = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    try {
      const error = await rejectionOf(other.create(ask('array answer')));
      expect(error.name).toBe('SecurityError');
      expect((error as Error & { code: string }).code).toBe('NOMYO_BAD_RESPONSE');
    } finally {
      other.close();
    }
  });
});

itLeaksNoSecretsInErrors();
