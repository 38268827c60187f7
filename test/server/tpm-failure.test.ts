// The reference server when its TPM goes away, restarts or is reset: `maximum`
// is refused with 503 {"detail":"TPM attestation failed"}, the other tiers are
// served with {"is_available": false}, nothing crashes, and quotes come back
// with the TPM.
import { spawnSync } from 'node:child_process';
import type { ReferenceServer } from '../../lib/server';
import { missingTpmTools, startSwtpm, type Swtpm } from '../helpers/swtpm';
import type { Logger } from '../../lib/logging';
import { chat, detailOf, httpCall, TestClient } from './support';
import type { SecureAnswer } from './support';
import { attestationOf, expectBoundTo, reviveSwtpm, startTpmServer, type RevivedSwtpm } from './tpm-support';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

let tpm: Swtpm;
let revived: RevivedSwtpm | undefined;
let server: ReferenceServer;
let client: TestClient;
/** Every line, prefixed with its level. */
const log: { lines: string[]; logger: Logger } = {
  lines: [],
  logger: {
    debug: (message) => void log.lines.push(`debug: ${message}`),
    info: (message) => void log.lines.push(`info: ${message}`),
    warn: (message) => void log.lines.push(`warn: ${message}`),
    error: (message) => void log.lines.push(`error: ${message}`),
  },
};

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  tpm = await startSwtpm();
  server = await startTpmServer(tpm, { logger: log.logger });
  client = await TestClient.create(server);
});

afterAll(async () => {
  client?.dispose();
  await server?.close();
  await revived?.stop();
  await tpm?.stop();
  process.off('unhandledRejection', onUnhandled);
});

/** An answer of a server whose TPM just failed: a verified quote, or 503 with exactly the fixed detail. */
async function expectQuotedOrRefused(answer: SecureAnswer): Promise<'quoted' | 'refused'> {
  if (answer.status === 503) {
    expect(detailOf(answer)).toBe('TPM attestation failed');
    return 'refused';
  }
  const { completion } = await client.open(answer);
  expectBoundTo(attestationOf(completion._metadata), answer.payloadId);
  return 'quoted';
}

async function expectTpmDown(): Promise<void> {
  const refused = await client.post(chat('maximum without a TPM'), { tier: 'maximum' });
  expect(refused.status).toBe(503);
  expect(JSON.parse(refused.body)).toEqual({ detail: 'TPM attestation failed' });
  for (const tier of [undefined, 'standard', 'high']) {
    const { completion } = await client.complete(chat(`still served at ${tier ?? 'no tier'}`), tier === undefined ? {} : { tier });
    expect(completion.choices[0]!.message.content).toBe(`echo: still served at ${tier ?? 'no tier'}`);
    expect(completion._metadata.tpm_attestation).toEqual({ is_available: false });
  }
}

describe('a TPM that goes away mid-run', () => {
  it('quotes while the TPM is there', async () => {
    const { completion, payloadId } = await client.complete(chat('before'), { tier: 'maximum' });
    expectBoundTo(attestationOf(completion._metadata), payloadId);
  });

  it('answers requests in flight when the TPM stops with a quote or a 503, never anything else', async () => {
    const pending = Array.from({ length: 6 }, (_, i) => client.post(chat(`in flight ${i}`), { tier: 'maximum' }));
    // Stop the TPM as soon as one answer is out, while the others are queued or quoting.
    await Promise.race(pending);
    await tpm.stop();
    const outcomes = await Promise.all((await Promise.all(pending)).map(expectQuotedOrRefused));
    expect(outcomes).toContain('quoted');
  });

  it('refuses maximum with 503 and serves the other tiers without attestation', async () => {
    await expectTpmDown();
    await expectTpmDown();
    // The server itself is fine.
    expect((await httpCall(`${server.url}/pki/public_key`)).status).toBe(200);
  });

  it('warns once per outage, without request content', () => {
    const warnings = log.lines.filter((line) => line.startsWith('warn: ') && line.includes('TPM attestation failed:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/TPM attestation failed: tpm2_\w+ exited with \d+: ERROR/);
    // The rest of the outage is at debug level.
    expect(log.lines.filter((line) => line.startsWith('debug: ') && line.includes('TPM attestation failed:')).length).toBeGreaterThanOrEqual(3);
    expect(log.lines.join('\n')).not.toMatch(/in flight|still served|maximum without/);
    expect(log.lines.some((line) => / tier=maximum .* tpm=failed$/.test(line) && line.includes('status=503'))).toBe(true);
    expect(log.lines.some((line) => / tier=high .* tpm=failed$/.test(line) && line.includes('status=200'))).toBe(true);
  });

  it('quotes again once a TPM is back on the same TCTI (a new one: the primary is recreated)', async () => {
    revived = await reviveSwtpm(tpm.port);
    const { completion, payloadId } = await client.complete(chat('after'), { tier: 'maximum' });
    expectBoundTo(attestationOf(completion._metadata), payloadId);
    expect(log.lines.filter((line) => line.includes('TPM attestation works again'))).toEqual([
      'info: reference server: TPM attestation works again',
    ]);
  });

  (missingTpmTools(['swtpm_ioctl']).length === 0 ? it : it.skip)(
    'recovers from a TPM reset that nobody followed with TPM2_Startup',
    async () => {
      // CMD_INIT through the control channel: a power cycle; swtpm then waits for TPM2_Startup.
      const reset = spawnSync('swtpm_ioctl', ['--tcp', `127.0.0.1:${tpm.port + 1}`, '-i'], { encoding: 'utf8' });
      expect(reset.status).toBe(0);
      const { completion, payloadId } = await client.complete(chat('after reset'), { tier: 'maximum' });
      expectBoundTo(attestationOf(completion._metadata), payloadId);
      expect(log.lines.some((line) => line.includes('sending TPM2_Startup(CLEAR)'))).toBe(true);
    },
  );

  it('had no unhandled rejections', () => {
    expect(unhandled).toEqual([]);
  });
});
