// Runs verifyAttestation on one generated vector in a process of its own, for
// tests that change what the process can load (NOMYO_FORCE_FALLBACK, a mount
// namespace without libtss2-mu) or that watch its stderr. Prints one JSON line.
//   node verify-in-child.cjs <vector name>
//   node verify-in-child.cjs --all    every vector; every truncation of one genuine vector's
//                                     blobs and every byte of its quote inverted
/* global require, __dirname, process, Buffer */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script, run by node itself */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

// The SDK's TypeScript sources, transpiled on load (no type checking: tsc does that).
require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(outputText, filename);
};

const root = path.resolve(__dirname, '..', '..', '..');
const { verifyAttestation } = require(path.join(root, 'lib', 'attestation', 'index.ts'));
const { loadNative } = require(path.join(root, 'lib', 'native', 'loader.ts'));
const vectors = JSON.parse(fs.readFileSync(path.join(root, 'test', 'fixtures', 'attestation', 'vectors.json'), 'utf8'));
const native = loadNative();

if (process.argv[2] === '--all') {
  let verified = 0;
  let total = 0;
  const judge = (block, payloadId) => {
    total++;
    if (verifyAttestation(block, { payloadId }).verified) verified++;
  };
  for (const v of vectors.vectors) judge(v.tpm_attestation, v.payload_id);
  const genuine = vectors.vectors.find((v) => v.name === 'genuine-ecc-p256');
  for (const field of ['aik_pubkey_b64', 'quote_b64', 'signature_b64']) {
    const bytes = Buffer.from(genuine.tpm_attestation[field], 'base64');
    for (let length = 0; length < bytes.length; length++) {
      judge({ ...genuine.tpm_attestation, [field]: bytes.subarray(0, length).toString('base64') }, genuine.payload_id);
    }
  }
  const quote = Buffer.from(genuine.tpm_attestation.quote_b64, 'base64');
  for (let position = 0; position < quote.length; position++) {
    const changed = Buffer.from(quote);
    changed[position] ^= 0xff;
    judge({ ...genuine.tpm_attestation, quote_b64: changed.toString('base64') }, genuine.payload_id);
  }
  process.stdout.write(`${JSON.stringify({ total, verified })}\n`);
  process.exit(0);
}

const vector = vectors.vectors.find((v) => v.name === process.argv[2]);
const report = {
  addonLoaded: native.loaded,
  tss2: native.loaded ? native.binding.tss2Available() : undefined,
  // Everything but attestation must work without libtss2-mu.
  memoryFactsWork: native.loaded ? typeof native.binding.memoryFacts().probe_locked === 'boolean' : undefined,
  result: verifyAttestation(vector.tpm_attestation, { payloadId: vector.payload_id }),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
