// End to end: the SDK's client against the reference server attesting through
// a private swtpm, under each attestation policy and at each tier; and the
// same client against a server without a TPM.
import {
  AttestationError,
  SecureChatCompletion,
  SECURITY_TIERS,
  ServiceUnavailableError,
  verifyAttestation,
} from '../../lib';
import type { AttestationVerification, ChatCompletion, SecureChatCompletionOptions, SecurityTier } from '../../lib';
import { startReferenceServer } from '../../lib/server';
import type { ReferenceServer } from '../../lib/server';
import { caught } from '../helpers/outcome';
import { startSwtpm, type Swtpm } from '../helpers/swtpm';

type Policy = NonNullable<SecureChatCompletionOptions['attestation']>;

let tpm: Swtpm;
let withTpm: ReferenceServer;
let withoutTpm: ReferenceServer;
const clients = new Map<Policy, SecureChatCompletion>();

/** One client per policy, each with its own key pair; no retries, so a 503 surfaces at once. */
function client(policy: Policy): SecureChatCompletion {
  let made = clients.get(policy);
  if (!made) {
    made = new SecureChatCompletion({ baseUrl: withTpm.url, allowHttp: true, maxRetries: 0, attestation: policy });
    clients.set(policy, made);
  }
  return made;
}

function ask(policy: Policy, tier: SecurityTier, server: ReferenceServer = withTpm): Promise<ChatCompletion> {
  return client(policy).create({
    model: 'echo',
    messages: [{ role: 'user', content: `hello at ${tier}` }],
    security_tier: tier,
    base_url: server.url,
  });
}

interface AttestedBlock {
  is_available: boolean;
  verification?: AttestationVerification;
  [field: string]: unknown;
}

function attestationOf(completion: ChatCompletion): AttestedBlock {
  const block = completion._metadata.tpm_attestation as AttestedBlock | undefined;
  expect(block).toBeDefined();
  return block!;
}

beforeAll(async () => {
  tpm = await startSwtpm();
  withTpm = await startReferenceServer({ port: 0, keyBits: 2048, tpm: `swtpm:host=127.0.0.1,port=${tpm.port}` });
  withoutTpm = await startReferenceServer({ port: 0, keyBits: 2048 });
});

afterAll(async () => {
  for (const made of clients.values()) made.close();
  await withTpm?.close();
  await withoutTpm?.close();
  await tpm?.stop();
});

describe('client and reference server with a swtpm', () => {
  it.each(SECURITY_TIERS)("carries a quote for this request at the %s tier (attestation 'off')", async (tier) => {
    const completion = await ask('off', tier);
    expect(completion.choices[0]!.message.content).toBe(`echo: hello at ${tier}`);
    expect(completion._metadata.security_tier).toBe(tier);
    const block = attestationOf(completion);
    expect(block.is_available).toBe(true);
    // 'off' leaves the block as the server sent it; checked here by hand.
    expect(block.verification).toBeUndefined();
    const payloadId = completion._metadata.payload_id as string;
    expect(verifyAttestation(block, { payloadId }).verified).toBe(true);
    expect(verifyAttestation(block, { payloadId: `${payloadId}x` }).verified).toBe(false);
  });

  it.each(SECURITY_TIERS)("verifies the quote at the %s tier under 'verify'", async (tier) => {
    const block = attestationOf(await ask('verify', tier));
    expect(block.verification?.failure).toBeUndefined();
    expect(block.verification?.verified).toBe(true);
    expect(block.verification?.checks.nonce).toBe('pass');
    expect(block.verification?.limitations.length).toBeGreaterThan(0);
  });

  it.each(SECURITY_TIERS)("passes 'require' at the %s tier", async (tier) => {
    const completion = await ask('require', tier);
    expect(completion.choices[0]!.message.content).toBe(`echo: hello at ${tier}`);
    expect(attestationOf(completion).verification?.verified).toBe(true);
  });
});

describe('client and reference server without a TPM', () => {
  it("reports the missing attestation under 'verify'", async () => {
    const block = attestationOf(await ask('verify', 'standard', withoutTpm));
    expect(block.is_available).toBe(false);
    expect(block.verification?.verified).toBe(false);
    expect(block.verification?.failure).toBe('attestation not available');
  });

  it.each(['standard', 'high'] as const)("refuses the %s answer under 'require' with AttestationError", async (tier) => {
    const error = await caught(() => ask('require', tier, withoutTpm));
    expect(error).toBeInstanceOf(AttestationError);
    expect(error.message).toMatch(/attestation not available/);
  });

  it('gets maximum refused by the server with ServiceUnavailableError', async () => {
    const error = await caught(() => ask('require', 'maximum', withoutTpm));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
  });
});
