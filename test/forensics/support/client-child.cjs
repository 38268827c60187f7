// A client process whose memory the forensics tests dump and search.
//   node --expose-gc client-child.cjs '<json config>'
// config: { mode: 'secure' | 'plain' | 'control', fallback: boolean, url, seed, count }
//   secure   N requests through createSecure(), each response read as a view over
//            locked memory, checked byte by byte, then disposed
//   plain    the same through create(): the returned object is the caller's copy
//   control  builds the same request objects and never calls the SDK
// With fallback the parent sets NOMYO_FORCE_FALLBACK=1 and no addon is loaded.
//
// Canaries are `CANARY-<seed>-<label>`; the parent knows the seed and searches for
// that prefix, so neither argv nor stdout ever holds a whole canary. Every canary
// string is built flat (String.fromCharCode over char codes) so that no step of
// building it leaves a contiguous copy behind: the request canaries therefore
// exist exactly where the caller's strings, or copies made later, put them.
//
// Once settled, prints one JSON line (hashes, counters, never a key or a canary)
// and waits for commands on stdin: `snapshot <path>` writes a V8 heap snapshot,
// `exit` ends the process. The parent takes the core dump before the snapshot,
// because writing a snapshot copies every live string into malloc'd memory.
/* global require, __dirname, process, Buffer, setTimeout */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script, run by node itself */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

const config = JSON.parse(process.argv[2]);
const root = path.resolve(__dirname, '..', '..', '..');
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run me with node --expose-gc');

// The fallback has no test hooks: the AES keys are observed (hashed, never kept)
// where the fallback hands them to WebCrypto. Installed before the SDK loads.
const observedKeyHashes = [];
if (config.fallback) {
  const subtle = crypto.webcrypto.subtle;
  const importKey = subtle.importKey;
  subtle.importKey = function observedImportKey(format, keyData, ...rest) {
    if (format === 'raw' && keyData && keyData.byteLength === 32) {
      observedKeyHashes.push(crypto.createHash('sha256').update(keyData).digest('hex'));
    }
    return importKey.call(subtle, format, keyData, ...rest);
  };
}

const loader = require(path.join(root, 'dist', 'native', 'loader.js'));
let testing = null;
if (!config.fallback) {
  const binding = require(path.join(root, 'build-cmake', 'Release', 'nomyo_testhooks.node'));
  if (!binding.testing) throw new Error('the test-hooks addon has no testing hooks');
  loader.useNativeBindingForTests(binding);
  testing = binding.testing;
}
const sdk = require(path.join(root, 'dist', 'index.js'));

/** A flat one-byte string made of `parts`, without any intermediate concatenation. */
function flatString(...parts) {
  const codes = [];
  for (const part of parts) for (let i = 0; i < part.length; i++) codes.push(part.charCodeAt(i));
  return String.fromCharCode(...codes);
}

/** The canary's bytes written into a fresh off-heap Buffer, piece by piece (no JS string of it exists). */
function canaryBuffer(label) {
  const buffer = Buffer.alloc(256, 0x20);
  let at = buffer.write('CANARY-', 0, 'latin1');
  at += buffer.write(config.seed, at, 'latin1');
  at += buffer.write('-', at, 'latin1');
  buffer.write(label, at, 'latin1');
  return buffer;
}

// VmLck less the SDK's pool of wiped small mappings (locked, holding no secret).
function vmLockedKiB() {
  const match = /^VmLck:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (!match) throw new Error('/proc/self/status has no VmLck line');
  return Number(match[1]) - sdk.getMemoryProtectionInfo().pooled_locked_bytes / 1024;
}

/**
 * Positive control of the key scan: 32 random bytes kept alive in a Buffer, of
 * the kind the key scan hashes (scan.ts: at most 3 zero bytes, at
 * least 3 bytes with the high bit set). Only its hash is ever printed.
 */
function controlKey() {
  for (;;) {
    const key = crypto.randomBytes(32);
    let zeros = 0;
    let high = 0;
    for (const b of key) {
      if (b === 0) zeros++;
      high += b >> 7;
    }
    if (zeros <= 3 && high >= 3) return key;
  }
}

async function settle() {
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

const ECHO = 'echo: ';
/** Whether `bytes` (a Buffer or a string) is "echo: " + canary, compared in place: no copy is made. */
function isEchoOf(bytes, canary) {
  const at = typeof bytes === 'string' ? (i) => bytes.charCodeAt(i) : (i) => bytes[i];
  if (bytes.length !== ECHO.length + canary.length) return false;
  for (let i = 0; i < ECHO.length; i++) if (at(i) !== ECHO.charCodeAt(i)) return false;
  for (let i = 0; i < canary.length; i++) if (at(ECHO.length + i) !== canary.charCodeAt(i)) return false;
  return true;
}

function labels(count) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(`REQ-${String(i).padStart(3, '0')}`);
  out.push('KEEP', 'HELD');
  return out;
}

function buildRequests(count) {
  return labels(count).map((label) => {
    const canary = flatString('CANARY-', config.seed, '-', label);
    return { canary, params: { model: 'forensics', messages: [{ role: 'user', content: canary }] } };
  });
}

// What stays reachable until the process ends: the positive controls.
const kept = {};
globalThis.__forensicsKept = kept;

async function runClient(requests) {
  const secure = config.mode === 'secure';
  const client = new sdk.SecureChatCompletion({ baseUrl: config.url, allowHttp: true, maxRetries: 0 });
  // Warm-up without a canary: key generation, server key fetch, first-use allocations.
  const warmParams = { model: 'forensics', messages: [{ role: 'user', content: 'warm-up' }] };
  if (secure) (await client.createSecure(warmParams)).dispose();
  else await client.create(warmParams);
  await settle();

  const report = { vmLckKiB: { baseline: vmLockedKiB() }, wipeStats: {} };
  if (testing) report.wipeStats.baseline = testing.wipeStats();

  for (let i = 0; i < config.count; i++) {
    const { canary, params } = requests[i];
    if (secure) {
      const response = await client.createSecure(params);
      if (!isEchoOf(response.content(), canary)) throw new Error(`response ${i} is not the echo of its request`);
      report.memoryProtection ??= response.metadata.memory_protection;
      response.dispose();
    } else {
      const response = await client.create(params);
      if (!isEchoOf(response.choices[0].message.content, canary)) throw new Error(`response ${i} is not the echo of its request`);
      report.memoryProtection ??= response._metadata.memory_protection;
    }
  }
  await settle();
  report.vmLckKiB.afterRequests = vmLockedKiB();
  if (testing) report.wipeStats.afterRequests = testing.wipeStats();

  // Positive control: the reply of KEEP, copied into a JS string the caller keeps.
  const keep = requests[config.count];
  if (secure) {
    const response = await client.createSecure(keep.params);
    kept.keepReply = response.text();
    response.dispose();
  } else {
    kept.keepReply = (await client.create(keep.params)).choices[0].message.content;
  }
  if (!isEchoOf(kept.keepReply, keep.canary)) throw new Error('the KEEP response is not the echo of its request');

  // HELD: a SecureResponse still alive (not disposed) when the core is dumped.
  if (secure) {
    const held = requests[config.count + 1];
    kept.held = await client.createSecure(held.params);
    if (kept.held.contentLength() !== ECHO.length + held.canary.length) throw new Error('the HELD response has the wrong length');
    report.heldLocked = kept.held.metadata.memory_protection.response_plaintext_locked;
  }

  client.close();
  return report; // the client, the requests and the responses are unreachable from here on
}

/** Builds the requests and (except in the control) sends them; nothing of it stays reachable after it returns. */
async function exercise() {
  const requests = buildRequests(config.count);
  await settle(); // the caller's request strings are promoted before any SDK work
  if (config.mode === 'control') return { vmLckKiB: { baseline: vmLockedKiB() }, wipeStats: {} };
  return runClient(requests);
}

async function main() {
  const report = await exercise();
  // Positive controls the scans must find: live one-byte and two-byte JS strings, an off-heap Buffer, a key-like Buffer.
  kept.liveString = flatString('CANARY-', config.seed, '-LIVE-STRING');
  kept.liveBuffer = canaryBuffer('LIVE-BUFFER');
  kept.liveWide = flatString('CANARY-', config.seed, '-LIVE-WIDE', '\u03a9'); // a two-byte string: UTF-16LE in memory
  kept.controlKey = controlKey();
  report.controlKeyHash = crypto.createHash('sha256').update(kept.controlKey).digest('hex');
  await settle();
  report.vmLckKiB.atDump = vmLockedKiB();
  if (testing) report.wipeStats.atDump = testing.wipeStats();
  report.keyHashes = testing ? testing.recentKeyHashes() : observedKeyHashes.slice();
  report.memoryProtectionInfo = sdk.getMemoryProtectionInfo();
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, mode: config.mode, fallback: Boolean(config.fallback), ...report })}\n`);

  let pending = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.startsWith('snapshot ')) {
        const file = v8.writeHeapSnapshot(line.slice('snapshot '.length));
        process.stdout.write(`${JSON.stringify({ snapshot: file, keptAlive: Object.keys(kept).length })}\n`);
      } else if (line === 'exit') {
        process.exit(0);
      }
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

main().catch((error) => {
  process.stderr.write(`client child failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
