// Logging: silent by default; NODE_DEBUG=nomyo or a logger shows the security
// operations (fingerprints, sizes, tier, retries) and never a secret.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KeyError, SecureChatCompletion } from '../../lib';
import type { ReferenceServer } from '../../lib/server';
import {
  CANARY_API_KEY,
  CANARY_PASSWORD,
  CANARY_PLAINTEXT,
  CANARY_WRONG_PASSWORD,
  canariesIn,
  itLeaksNoSecretsInErrors,
  rejectionOf,
} from './support/canaries';
import { runSdkScript } from './support/child';
import type { ChildResult } from './support/child';
import { ask, captureLogger, echoOf } from './support/fixtures';
import type { CapturedLog } from './support/fixtures';
import { makeTempDir, removeTempDirs } from './support/keys';
import { startFaultServer, startReference } from './support/servers';

afterAll(() => {
  removeTempDirs();
});

describe('a capturing logger', () => {
  let reference: ReferenceServer;
  let clientLog: CapturedLog;
  let serverLog: CapturedLog;

  beforeAll(async () => {
    serverLog = captureLogger();
    clientLog = captureLogger();
    reference = await startReference({ apiKey: CANARY_API_KEY, logger: serverLog.logger });
    const flaky = await startFaultServer();
    flaky.onPost = async (exchange) => {
      if (exchange.index === 0) exchange.sendError(503, 'busy', { 'Retry-After': '0' });
      else exchange.sendPackage(await exchange.echoPackage());
    };
    const keyDir = path.join(makeTempDir(), 'client_keys');
    const client = new SecureChatCompletion({ baseUrl: reference.url, allowHttp: true, apiKey: CANARY_API_KEY, logger: clientLog.logger });
    try {
      await client.generateKeys({ saveToFile: true, keyDir, password: CANARY_PASSWORD });
      await client.loadKeys(path.join(keyDir, 'private_key.pem'), path.join(keyDir, 'public_key.pem'), { password: CANARY_PASSWORD });
      const wrong = await rejectionOf(
        client.loadKeys(path.join(keyDir, 'private_key.pem'), undefined, { password: CANARY_WRONG_PASSWORD }),
      );
      expect(wrong).toBeInstanceOf(KeyError);

      const response = await client.create(ask('logged request', { security_tier: 'high' }));
      expect(response.choices[0]!.message.content).toBe(echoOf('logged request'));
      await rejectionOf(client.create(ask('unauthorized', { api_key: `${CANARY_API_KEY}-wrong` })));
      await rejectionOf(client.create(ask('maximum', { security_tier: 'maximum' })));
      const retried = await client.create(ask('retried', { base_url: flaky.url }));
      expect(retried.choices[0]!.message.content).toBe(echoOf('retried'));
    } finally {
      client.close();
      await flaky.close();
    }
  });

  afterAll(async () => {
    await reference.close();
  });

  it('receives lines', () => {
    expect(clientLog.lines.length).toBeGreaterThan(5);
  });

  it('names the client key (generated, loaded) and the server key by fingerprint', () => {
    const text = clientLog.text();
    expect(text).toMatch(/client key generated: RSA-4096, sha256:[0-9a-f]{64}/);
    expect(text).toMatch(/client key loaded: RSA-4096, sha256:[0-9a-f]{64}/);
    expect(text).toContain(`server key fetched: RSA-2048, ${reference.fingerprint}`);
  });

  it('gives sizes, the tier, the protection in force and retries', () => {
    const text = clientLog.text();
    expect(text).toMatch(/client ready: backend (native|node-crypto), memory protection (mlock|wipe-only|none)/);
    expect(text).toMatch(/request serialized: \d+ bytes/);
    expect(text).toMatch(/response for [0-9a-f-]{36} decrypted: \d+ bytes/);
    expect(text).toMatch(/tier high/);
    expect(text).toMatch(/failed \(ServiceUnavailableError\); retrying in 0 ms/);
  });

  it('carries none of the canaries: plaintext, API key, key passwords', () => {
    expect(canariesIn(clientLog.text())).toEqual([]);
  });

  it("and the reference server's log carries none either", () => {
    expect(serverLog.lines.length).toBeGreaterThan(0);
    expect(canariesIn(serverLog.text())).toEqual([]);
  });
});

/** A child that does everything worth logging with canaries, then writes its outcome to RESULT_FILE. */
const childScript = `
const fs = require('node:fs');
const path = require('node:path');
const env = process.env;
(async () => {
  const srv = await server.startReferenceServer({ port: 0, keyBits: 2048, apiKey: env.CANARY_API_KEY });
  const client = new sdk.SecureChatCompletion({ baseUrl: srv.url, allowHttp: true, apiKey: env.CANARY_API_KEY });
  const keyDir = path.join(process.cwd(), 'keys');
  try {
    await client.generateKeys({ saveToFile: true, keyDir, password: env.CANARY_PASSWORD });
    await client.loadKeys(path.join(keyDir, 'private_key.pem'), path.join(keyDir, 'public_key.pem'), { password: env.CANARY_PASSWORD });
    let wrongPassword = 'no error';
    try {
      await client.loadKeys(path.join(keyDir, 'private_key.pem'), undefined, { password: env.CANARY_WRONG_PASSWORD });
    } catch (error) {
      wrongPassword = error.code;
    }
    const response = await client.create({
      model: 'test-model',
      messages: [{ role: 'user', content: env.CANARY_PLAINTEXT }],
      security_tier: 'high',
    });
    fs.writeFileSync(env.RESULT_FILE, JSON.stringify({ content: response.choices[0].message.content, wrongPassword }));
  } finally {
    client.close();
    await srv.close();
  }
})().catch((error) => {
  fs.writeFileSync(env.RESULT_FILE, JSON.stringify({ failed: String(error && error.stack) }));
  process.exitCode = 1;
});
`;

async function runChild(extraEnv: Record<string, string>): Promise<{ result: ChildResult; outcome: Record<string, unknown> }> {
  const resultFile = path.join(makeTempDir(), 'result.json');
  const result = await runSdkScript(childScript, {
    CANARY_API_KEY,
    CANARY_PASSWORD,
    CANARY_WRONG_PASSWORD,
    CANARY_PLAINTEXT,
    RESULT_FILE: resultFile,
    ...extraEnv,
  });
  const outcome = fs.existsSync(resultFile) ? (JSON.parse(fs.readFileSync(resultFile, 'utf8')) as Record<string, unknown>) : {};
  return { result, outcome };
}

describe('NODE_DEBUG and the default logger, seen from a child process', () => {
  let debug: { result: ChildResult; outcome: Record<string, unknown> };
  let silent: { result: ChildResult; outcome: Record<string, unknown> };

  beforeAll(async () => {
    [debug, silent] = await Promise.all([runChild({ NODE_DEBUG: 'nomyo' }), runChild({})]);
  });

  it('both children did the work', () => {
    for (const child of [debug, silent]) {
      expect(child.outcome).toEqual({ content: `echo: ${CANARY_PLAINTEXT}`, wrongPassword: 'NOMYO_KEY_BAD_PASSWORD' });
      expect(child.result.status).toBe(0);
    }
  });

  it('NODE_DEBUG=nomyo writes the security operations to stderr, nothing to stdout', () => {
    expect(debug.result.stdout).toBe('');
    const lines = debug.result.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(line).toMatch(/^NOMYO \d+: /);
    expect(debug.result.stderr).toMatch(/client key generated: RSA-4096, sha256:[0-9a-f]{64}/);
    expect(debug.result.stderr).toMatch(/client key loaded: RSA-4096, sha256:[0-9a-f]{64}/);
    expect(debug.result.stderr).toMatch(/server key fetched: RSA-2048, sha256:[0-9a-f]{64}/);
    expect(debug.result.stderr).toMatch(/\d+ bytes/);
    expect(debug.result.stderr).toMatch(/tier high/);
  });

  it('NODE_DEBUG=nomyo output carries none of the canaries', () => {
    expect(canariesIn(debug.result.stderr)).toEqual([]);
  });

  it('is silent by default: nothing on stdout or stderr', () => {
    expect(silent.result.stdout).toBe('');
    expect(silent.result.stderr).toBe('');
  });
});

itLeaksNoSecretsInErrors();
