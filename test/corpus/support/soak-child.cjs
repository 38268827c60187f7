// The soak's client process: one client of the compiled SDK (dist/), thousands
// of requests mixing good ones (to the reference server) with bad ones drawn
// from the corpus (request params refused on this side or by the server;
// packages served by the soak fault server), a bounded number in flight.
//   node --expose-gc soak-child.cjs '<json config>'
// config: { refUrl, faultUrl, keyPath, publicKeyPath, total, concurrency, goodShare, seed }
// Prints one line, `SOAK_RESULT <json>`: counts, failures, memory before and after.
// The corpus modules are TypeScript; they are transpiled on the fly (they import
// no SDK code), while the SDK itself is the compiled one.
/* global require, __dirname, process, setImmediate, setTimeout, setInterval, clearInterval */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script, run by node itself */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const config = JSON.parse(process.argv[2]);
const root = path.resolve(__dirname, '..', '..', '..');
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run me with node --expose-gc');

const ts = require(require.resolve('typescript', { paths: [root] }));
require.extensions['.ts'] = (module, filename) => {
  const output = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(output.outputText, filename);
};

const sdk = require(path.join(root, 'dist', 'index.js'));
const generator = require(path.join(__dirname, 'generator.ts'));
const { seeded } = require(path.join(__dirname, 'prng.ts'));
const { knownBugFor } = require(path.join(__dirname, 'known-bugs.ts'));
const { CANARY_API_KEY, CANARY_PLAINTEXT, canariesIn, errorText } = require(path.join(root, 'test', 'client', 'support', 'canaries.ts'));

const unhandled = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason && reason.message ? reason.message : reason)));

const backend = sdk.getMemoryProtectionInfo().native_addon ? 'native' : 'node-crypto';
const corpus = generator.buildCorpus(config.seed);

// Cases the soak draws from: no known bug on this backend; packages that must
// be refused whatever the attestation policy; heavy ones set apart.
const paramCases = corpus.params.filter((c) => !knownBugFor('params', c.name, backend));
const lightParams = paramCases.filter((c) => !c.heavy);
const heavyParams = paramCases.filter((c) => c.heavy);
const packageIndices = corpus.packages
  .map((c, index) => ({ c, index }))
  .filter(({ c }) => !c.heavy && (c.outcome.kind === 'refused' || c.outcome.kind === 'bad-plaintext') && !knownBugFor('packages', c.name, backend))
  .map(({ index }) => index);

// VmLck less the SDK's pool of wiped small mappings (locked, holding no secret).
function vmLockedKiB() {
  const match = /^VmLck:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) - sdk.getMemoryProtectionInfo().pooled_locked_bytes / 1024 : -1;
}

async function settleAndMeasure() {
  for (let i = 0; i < 8; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const info = sdk.getMemoryProtectionInfo();
  const usage = process.memoryUsage();
  return {
    method: info.method,
    vmLckKiB: vmLockedKiB(),
    lockedBytes: info.locked_bytes,
    unlockedBytes: info.unlocked_bytes,
    rssBytes: usage.rss,
    heapUsedBytes: usage.heapUsed,
    externalBytes: usage.external,
  };
}

const CLASSES = {
  NomyoError: sdk.NomyoError,
  APIError: sdk.APIError,
  InvalidRequestError: sdk.InvalidRequestError,
  AuthenticationError: sdk.AuthenticationError,
  ForbiddenError: sdk.ForbiddenError,
  RateLimitError: sdk.RateLimitError,
  ServerError: sdk.ServerError,
  ServiceUnavailableError: sdk.ServiceUnavailableError,
  APIConnectionError: sdk.APIConnectionError,
  APIUserAbortError: sdk.APIUserAbortError,
  SecurityError: sdk.SecurityError,
  AttestationError: sdk.AttestationError,
  KeyError: sdk.KeyError,
};

/** The same rule as the jest harness: class (exactly, or not these subclasses), code, status. */
function meets(error, wanted) {
  const klass = CLASSES[wanted.class];
  if (!klass || !(error instanceof klass)) return false;
  if (wanted.exact && error.constructor !== klass) return false;
  for (const excluded of wanted.not || []) if (error instanceof CLASSES[excluded]) return false;
  if (wanted.codes && !wanted.codes.includes(error.code)) return false;
  if (wanted.status !== undefined && error.status !== wanted.status) return false;
  return true;
}

const REFUSED_CODES = ['NOMYO_BAD_PACKAGE', 'NOMYO_DECRYPT_FAILED', 'NOMYO_PAYLOAD_ID_MISMATCH'];

function describeError(error) {
  if (error && typeof error === 'object') return `${error.name} ${error.code || ''}: ${String(error.message).slice(0, 160)}`;
  return `a thrown ${typeof error}`;
}

const tally = { good: 0, goodFailed: 0, params: 0, packages: 0, badAsExpected: 0, badWrong: 0, secretsInErrors: 0 };
const failures = [];
function fail(what) {
  if (failures.length < 25) failures.push(what);
}

function checkSecrets(error) {
  const found = canariesIn(errorText(error));
  if (found.length > 0) {
    tally.secretsInErrors++;
    fail(`a secret in an error: ${describeError(error)}`);
  }
}

async function runGood(client, i) {
  const text = `soak ${i}`;
  try {
    const response = await client.create(generator.goodParams(text));
    if (response.choices[0].message.content !== `echo: ${CANARY_PLAINTEXT} ${text}`) throw new Error('wrong echo');
    tally.good++;
  } catch (error) {
    tally.goodFailed++;
    fail(`good request ${i} failed: ${describeError(error)}`);
  }
}

async function runParams(client, c) {
  tally.params++;
  const built = c.build();
  let error;
  try {
    await ('options' in built ? client.create(built.params, built.options) : client.create(built.params));
    tally.badWrong++;
    fail(`${c.id} ${c.name}: resolved`);
    return;
  } catch (caught) {
    error = caught;
  }
  let ok;
  if (c.outcome.kind === 'typed') ok = meets(error, c.outcome.expect);
  else {
    ok =
      error === built.thrown ||
      (error instanceof sdk.InvalidRequestError && ['NOMYO_NOT_SERIALIZABLE', 'NOMYO_BAD_PARAMS'].includes(error.code)) ||
      (error instanceof sdk.NomyoError && error.constructor === sdk.NomyoError);
  }
  if (ok) tally.badAsExpected++;
  else {
    tally.badWrong++;
    fail(`${c.id} ${c.name}: ${describeError(error)}`);
  }
  if (error !== built.thrown) checkSecrets(error);
}

async function runPackage(client, index) {
  tally.packages++;
  const c = corpus.packages[index];
  let error;
  try {
    await client.create({ ...generator.goodParams(c.id), base_url: `${config.faultUrl}/p/${index}` });
    tally.badWrong++;
    fail(`${c.id} ${c.name}: resolved`);
    return;
  } catch (caught) {
    error = caught;
  }
  const codes = c.outcome.kind === 'bad-plaintext' ? c.outcome.codes : REFUSED_CODES;
  if (meets(error, { class: 'SecurityError', not: ['AttestationError'], codes })) tally.badAsExpected++;
  else {
    tally.badWrong++;
    fail(`${c.id} ${c.name}: ${describeError(error)}`);
  }
  checkSecrets(error);
}

function plan(total, rng) {
  const steps = [];
  let bad = 0;
  for (let i = 0; i < total; i++) {
    if (rng.float() < config.goodShare) {
      steps.push({ kind: 'good' });
      continue;
    }
    bad++;
    if (heavyParams.length > 0 && bad % 250 === 0) steps.push({ kind: 'params', c: heavyParams[(bad / 250) % heavyParams.length] });
    else if (rng.float() < 0.5) steps.push({ kind: 'params', c: rng.pick(lightParams) });
    else steps.push({ kind: 'package', index: rng.pick(packageIndices) });
  }
  return steps;
}

async function runAll(client, steps) {
  let next = 0;
  const worker = async () => {
    while (next < steps.length) {
      const i = next++;
      const step = steps[i];
      if (step.kind === 'good') await runGood(client, i);
      else if (step.kind === 'params') await runParams(client, step.c);
      else await runPackage(client, step.index);
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, worker));
}

async function main() {
  const client = new sdk.SecureChatCompletion({
    baseUrl: config.refUrl,
    allowHttp: true,
    apiKey: CANARY_API_KEY,
    maxRetries: 0,
    timeout: 60_000,
  });
  await client.loadKeys(config.keyPath, config.publicKeyPath);

  // Warm-up: every soak case once (fills the server-key cache for every /p/<n>,
  // makes the shared big strings of the size cases), then good ones.
  const warmup = [
    ...packageIndices.map((index) => ({ kind: 'package', index })),
    ...paramCases.map((c) => ({ kind: 'params', c })),
    ...Array.from({ length: 200 }, () => ({ kind: 'good' })),
  ];
  await runAll(client, warmup);
  const warmupTally = { ...tally };
  for (const key of Object.keys(tally)) tally[key] = 0;
  const before = await settleAndMeasure();

  const steps = plan(config.total, seeded(config.seed ^ 0x50a4));
  // Peaks while the soak runs: shows that secrets really were locked (so that
  // "back to the baseline" afterwards means something).
  const peak = { vmLckKiB: 0, lockedBytes: 0 };
  const sampler = setInterval(() => {
    peak.vmLckKiB = Math.max(peak.vmLckKiB, vmLockedKiB());
    peak.lockedBytes = Math.max(peak.lockedBytes, sdk.getMemoryProtectionInfo().locked_bytes);
  }, 5);
  const started = Date.now();
  await runAll(client, steps);
  const elapsedMs = Date.now() - started;
  clearInterval(sampler);
  const after = await settleAndMeasure();
  client.close();
  const afterClose = await settleAndMeasure();

  const result = {
    backend,
    total: steps.length,
    concurrency: config.concurrency,
    mix: {
      good: steps.filter((s) => s.kind === 'good').length,
      params: steps.filter((s) => s.kind === 'params').length,
      packages: steps.filter((s) => s.kind === 'package').length,
      heavy: steps.filter((s) => s.kind === 'params' && s.c.heavy).length,
      distinctParamCases: new Set(steps.filter((s) => s.kind === 'params').map((s) => s.c.id)).size,
      distinctPackageCases: new Set(steps.filter((s) => s.kind === 'package').map((s) => s.index)).size,
    },
    warmupTally,
    tally,
    failures,
    unhandled,
    elapsedMs,
    memory: { before, peak, after, afterClose },
  };
  process.stdout.write(`SOAK_RESULT ${JSON.stringify(result)}\n`);
}

main().then(
  () => setTimeout(() => process.exit(0), 10),
  (error) => {
    process.stderr.write(`soak child failed: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
