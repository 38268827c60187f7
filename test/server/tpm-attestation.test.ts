// The reference server with a TPM (a private swtpm): every answer carries a
// quote from a fresh AIK, bound to its own payload id, for every tier.
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { verifyAttestation } from '../../lib/attestation';
import { startReferenceServer } from '../../lib/server';
import { TpmQuoter } from '../../lib/server/tpm-quoter';
import type { ReferenceServer } from '../../lib/server';
import { freePortPair, startSwtpm, type Swtpm } from '../helpers/swtpm';
import { chat, recordingLogger, TestClient } from './support';
import { attestationOf, expectBoundTo, loadedHandles, pcrRead, startTpmServer, tctiOf } from './tpm-support';

const CANARY = 'CANARY-tpm-4e1f0b';

let tpm: Swtpm;

beforeAll(async () => {
  tpm = await startSwtpm();
  // Something measured, so that PCR 10 is not all zeros.
  tpm.tool('tpm2_pcrextend', [`10:sha256=${'5a'.repeat(32)}`]);
});

afterAll(async () => {
  await tpm?.stop();
});

describe('reference server with an ECC AIK', () => {
  let server: ReferenceServer;
  let client: TestClient;
  const log = recordingLogger();

  beforeAll(async () => {
    server = await startTpmServer(tpm, { logger: log.logger });
    client = await TestClient.create(server);
  });

  afterAll(async () => {
    client.dispose();
    await server?.close();
  });

  it.each([['no tier', undefined], ['standard', 'standard'], ['high', 'high'], ['maximum', 'maximum']])(
    'answers %s with a quote bound to the payload id',
    async (_label, tier) => {
      const { completion, payloadId } = await client.complete(chat(`attest me ${CANARY}`), tier === undefined ? {} : { tier });
      expect(completion.choices[0]!.message.content).toBe(`echo: attest me ${CANARY}`);
      const result = expectBoundTo(attestationOf(completion._metadata), payloadId);
      expect(result.aik).toMatchObject({ type: 'ecc', curve: 'P-256' });
      expect(result.aik?.attributes).toEqual(expect.arrayContaining(['restricted', 'sign', 'fixedtpm']));
      expect(result.quote?.pcrSelection).toEqual([{ bank: 'sha256', pcrs: [0, 7, 10] }]);
    },
  );

  it('reports the PCR values tpm2_pcrread sees, and follows a new measurement', async () => {
    const before = attestationOf((await client.complete(chat('pcrs'))).completion._metadata);
    expect(before.pcr_values.sha256).toEqual(pcrRead(tpm));

    tpm.tool('tpm2_pcrextend', [`10:sha256=${'c3'.repeat(32)}`]);
    const now = pcrRead(tpm);
    expect(now['10']).not.toBe(before.pcr_values.sha256['10']);
    const { completion, payloadId } = await client.complete(chat('pcrs again'));
    const after = attestationOf(completion._metadata);
    expect(after.pcr_values.sha256).toEqual(now);

    // The quoted values are the signed ones: a baseline of the new values holds, the old one does not.
    expect(verifyAttestation(after, { payloadId, baseline: { sha256: now } }).verified).toBe(true);
    const stale = verifyAttestation(after, { payloadId, baseline: { sha256: before.pcr_values.sha256 } });
    expect(stale.verified).toBe(false);
    expect(stale.failure).toMatch(/^baseline: .*sha256:10 differs/);
  });

  it('gives 20 concurrent requests each a quote of their own', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => client.complete(chat(`concurrent ${i}`), { tier: 'maximum' })));
    const fingerprints = new Set<string>();
    for (const { completion, payloadId } of answers) {
      const result = expectBoundTo(attestationOf(completion._metadata), payloadId);
      fingerprints.add(result.aik!.fingerprint);
    }
    // A fresh AIK for every request.
    expect(fingerprints.size).toBe(20);
    expect(loadedHandles(tpm)).toEqual([]);
  });

  it('answers 60 requests in a row without running out of TPM object slots', async () => {
    for (let i = 0; i < 60; i++) {
      const { completion, payloadId } = await client.complete(chat(`sequential ${i}`), { tier: 'maximum' });
      expect(verifyAttestation(attestationOf(completion._metadata), { payloadId }).verified).toBe(true);
    }
    // Every step was flushed: nothing is left loaded in the TPM.
    expect(loadedHandles(tpm)).toEqual([]);
  });

  it('logs quote timings at debug level and never the content', () => {
    const timings = log.lines.filter((line) => /TPM quote with a fresh ECC P-256 AIK took [0-9.]+ ms \(queued [0-9.]+ ms\)/.test(line));
    expect(timings.length).toBeGreaterThanOrEqual(86);
    expect(log.lines.filter((line) => / tpm=quoted$/.test(line)).length).toBeGreaterThanOrEqual(86);
    expect(log.lines.join('\n')).not.toContain(CANARY);
    expect(log.lines.some((line) => /TPM attestation failed/.test(line))).toBe(false);
  });
});

describe('reference server with an RSA AIK', () => {
  it('quotes with a fresh RSA-2048 key', async () => {
    const server = await startTpmServer(tpm, { tpmAikAlgorithm: 'rsa' });
    const client = await TestClient.create(server);
    try {
      const payloadId = randomUUID();
      const { completion } = await client.complete(chat('rsa please'), { tier: 'maximum', payloadId });
      const result = expectBoundTo(attestationOf(completion._metadata), payloadId);
      expect(result.aik).toMatchObject({ type: 'rsa', bits: 2048, scheme: 'rsassa' });
      expect(result.quote?.signature).toEqual({ algorithm: 'rsassa', hash: 'sha256' });
    } finally {
      client.dispose();
      await server.close();
    }
  });
});

describe('starting with a TPM', () => {
  it('refuses to start when the TPM cannot be reached', async () => {
    const port = await freePortPair();
    const failure = startReferenceServer({ port: 0, keyBits: 2048, tpm: tctiOf(port) });
    await expect(failure).rejects.toMatchObject({ code: 'NOMYO_TPM_UNAVAILABLE' });
    await expect(failure).rejects.toThrow(/the TPM at swtpm:host=127\.0\.0\.1.* cannot be used: tpm2_createprimary/);
  });

  it('gives up on a TPM that does not answer, without retrying', async () => {
    // A "swtpm" whose command and control ports accept connections and never say a word.
    const port = await freePortPair();
    const sockets: net.Socket[] = [];
    const silent = [0, 1].map(() => net.createServer((socket) => void sockets.push(socket)));
    await Promise.all(silent.map((server, i) => new Promise<void>((resolve) => server.listen(port + i, '127.0.0.1', resolve))));
    try {
      const failure = TpmQuoter.start({ tcti: tctiOf(port), logger: recordingLogger().logger, toolTimeoutMs: 300 });
      await expect(failure).rejects.toMatchObject({ code: 'NOMYO_TPM_UNAVAILABLE' });
      await expect(failure).rejects.toThrow(/tpm2_createprimary did not finish within 300 ms$/);
    } finally {
      for (const socket of sockets) socket.destroy();
      for (const server of silent) server.close();
    }
  });

  it('says when tpm2-tools are missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(TpmQuoter.start({ tcti: tctiOf(tpm.port), logger: recordingLogger().logger })).rejects.toThrow(
        /tpm2_createprimary was not found: install tpm2-tools/,
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it('refuses invalid TPM options before touching the TPM', async () => {
    await expect(startReferenceServer({ port: 0, keyBits: 2048, tpm: '' })).rejects.toThrow(/TCTI/);
    await expect(startReferenceServer({ port: 0, keyBits: 2048, tpm: 'device:/dev/tpm rm0' })).rejects.toThrow(/TCTI/);
    await expect(startReferenceServer({ port: 0, keyBits: 2048, tpmAikAlgorithm: 'ecc' })).rejects.toThrow(/needs tpm/);
    await expect(
      startReferenceServer({ port: 0, keyBits: 2048, tpm: tctiOf(tpm.port), tpmAikAlgorithm: 'dsa' as 'ecc' }),
    ).rejects.toThrow(/'ecc' or 'rsa'/);
  });
});
