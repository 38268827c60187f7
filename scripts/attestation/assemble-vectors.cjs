#!/usr/bin/env node
// The JSON side of generate-vectors.sh: reads the TPM-made material, derives the
// mutated vectors from it, writes tpm2_checkquote's inputs, and assembles
// vectors.json with our expected verdict beside tpm2_checkquote's.
//
//   forge <quote-material-dir> <forged-material-dir>
//   prepare <material-dir> <vectors-dir>
//   finish <vectors-dir> <out.json> <tpm2-tools version> <swtpm version>
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const DIGEST_BYTES = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };
const TPM_ALG_SHA384 = 0x000c;

// --- TPM 2.0 Part 2 layouts, as far as the mutations need them ---------------------

/** TPMS_ATTEST: magic(4) type(2) qualifiedSigner(TPM2B) extraData(TPM2B) clockInfo(17) firmwareVersion(8) attested. */
function attestLayout(attest) {
  let offset = 6;
  offset += 2 + attest.readUInt16BE(offset); // qualifiedSigner
  offset += 2 + attest.readUInt16BE(offset); // extraData
  return { clock: offset, attested: offset + 17 + 8 };
}

/** TPMS_QUOTE_INFO ends the attest: pcrSelect, then pcrDigest (TPM2B). Returns the digest's offset. */
function quoteDigestOffset(attest) {
  let offset = attestLayout(attest).attested;
  const banks = attest.readUInt32BE(offset);
  offset += 4;
  for (let i = 0; i < banks; i++) offset += 2 + 1 + attest[offset + 2];
  const size = attest.readUInt16BE(offset);
  if (offset + 2 + size !== attest.length) throw new Error('not a TPMS_ATTEST of a quote');
  return offset + 2;
}

function tpm2b(contents) {
  const size = Buffer.alloc(2);
  size.writeUInt16BE(contents.length);
  return Buffer.concat([size, contents]);
}

function withByte(buffer, index, change) {
  const copy = Buffer.from(buffer);
  copy[index] = change(copy[index]);
  return copy;
}

const flip = (byte) => byte ^ 0x01;

function nonceHex(payloadId) {
  return crypto.createHash('sha256').update(payloadId, 'utf8').digest().subarray(0, 16).toString('hex');
}

// --- material -------------------------------------------------------------------------

function readMaterials(dir) {
  const materials = {};
  for (const line of fs.readFileSync(path.join(dir, 'manifest.tsv'), 'utf8').split('\n')) {
    if (line === '') continue;
    const [name, selection, hash, payloadId] = line.split('\t');
    const [bank, list] = selection.split(':');
    const pcrs = fs.readFileSync(path.join(dir, name, 'pcrs.bin'));
    const size = DIGEST_BYTES[bank];
    const indices = list.split(',').map(Number);
    materials[name] = {
      name,
      payloadId,
      hash,
      bank,
      indices,
      values: indices.map((_, i) => pcrs.subarray(i * size, (i + 1) * size)),
      aik: fs.readFileSync(path.join(dir, name, 'aik.pub')),
      quote: tpm2b(fs.readFileSync(path.join(dir, name, 'attest.msg'))),
      signature: fs.readFileSync(path.join(dir, name, 'signature.bin')),
    };
  }
  return materials;
}

/** The wire form of a vector, before base64: what the server would have reported. */
function evidence(material, changes = {}) {
  return {
    bank: material.bank,
    indices: material.indices,
    values: material.values,
    aik: material.aik,
    quote: material.quote,
    signature: material.signature,
    ...changes,
  };
}

function report(wire) {
  const values = {};
  wire.indices.forEach((index, i) => {
    values[String(index)] = wire.values[i].toString('hex');
  });
  return {
    is_available: true,
    pcr_banks: `${wire.bank}:${wire.indices.join(',')}`,
    pcr_values: { [wire.bank]: values },
    aik_pubkey_b64: wire.aik.toString('base64'),
    quote_b64: wire.quote.toString('base64'),
    signature_b64: wire.signature.toString('base64'),
  };
}

const verified = { verified: true, failed_checks: [] };
const refused = (...checks) => ({ verified: false, failure_check: checks[0], failed_checks: checks });

// --- the vectors ------------------------------------------------------------------------

function vectors(m) {
  const genuine = m['ecc-p256'];
  const list = [];
  const add = (name, description, material, wire, expect, extra = {}) =>
    list.push({ name, description, material, wire, expect, ...extra });

  // Genuine quotes: each must verify.
  add('genuine-ecc-p256', 'ECC P-256 AIK (ecdsa-sha256), quote over sha256:0,7,10', genuine, evidence(genuine), verified);
  add('genuine-rsa2048-rsassa', 'RSA-2048 AIK (rsassa-sha256)', m['rsa2048-rsassa'], evidence(m['rsa2048-rsassa']), verified);
  add('genuine-rsa2048-rsapss', 'RSA-2048 AIK (rsapss-sha256)', m['rsa2048-rsapss'], evidence(m['rsa2048-rsapss']), verified);
  add('genuine-ecc-p384-sha384-signing', 'ECC P-384 AIK (ecdsa-sha384) quoting the sha256 bank: pcrDigest is SHA-384 of the SHA-256 PCR values (the signing hash, not the bank hash)', m['ecc-p384'], evidence(m['ecc-p384']), verified);
  add('genuine-ecc-p256-sha384-bank', 'ECC P-256 AIK (ecdsa-sha256) quoting the sha384 bank: pcrDigest is SHA-256 of the SHA-384 PCR values', m['ecc-p256-sha384-bank'], evidence(m['ecc-p256-sha384-bank']), verified);
  add('genuine-unicode-payload-id', 'payload id with non-ASCII characters: the nonce is over its UTF-8 bytes', m['ecc-p256-unicode'], evidence(m['ecc-p256-unicode']), verified);

  // Genuine TPM output, judged against the wrong request or the wrong key.
  add('quote-for-other-payload-id', 'a genuine quote made for another payload id (a replay)', m['ecc-p256-other-payload'], evidence(m['ecc-p256-other-payload']), refused('nonce'), { payload_id: genuine.payloadId });
  add('swapped-aik', 'the quote and signature of one AIK reported with another genuine AIK', genuine, evidence(genuine, { aik: m['ecc-p256-second'].aik }), refused('signature'));
  add('aik-type-swapped', 'an ECDSA quote reported with a genuine RSA AIK', genuine, evidence(genuine, { aik: m['rsa2048-rsassa'].aik }), refused('signature_scheme'));
  add('certify-attest', 'TPM2_Certify output (the AIK certifying itself) signed by the same restricted AIK: genuine, but not a quote', m.certify, evidence(m.certify), refused('attest_type', 'nonce'));
  add('time-attest', 'TPM2_GetTime output with the right nonce, signed by the same restricted AIK: genuine, but not a quote', m.time, evidence(m.time), refused('attest_type'));
  add('sha1-bank-quote', 'a genuine quote over the sha1 bank, which the verifier does not accept', m['ecc-p256-sha1-bank'], evidence(m['ecc-p256-sha1-bank']), refused('report_format'));
  add('unrestricted-aik-quote', 'a genuine quote by a signing key without `restricted`', m['unrestricted-quote'], evidence(m['unrestricted-quote']), refused('aik_attributes'));
  add('unrestricted-aik-forged-attest', 'a forged TPMS_ATTEST (right magic, type and nonce, pcrDigest of made-up PCR values) signed by an unrestricted key with TPM2_Sign', m['unrestricted-forged'], evidence(m['unrestricted-forged']), refused('aik_attributes'));

  // Changed bytes.
  const attest = genuine.quote.subarray(2);
  add('quote-byte-flipped', 'one bit of the quoted clock flipped', genuine, evidence(genuine, { quote: tpm2b(withByte(attest, attestLayout(attest).clock + 7, flip)) }), refused('signature'));
  add('quote-magic-changed', 'the first byte of TPM_GENERATED_VALUE changed (0xff to 0xfe)', genuine, evidence(genuine, { quote: tpm2b(withByte(attest, 0, flip)) }), refused('attest_magic', 'signature'));
  add('signature-byte-flipped', 'one bit of the ECDSA s value flipped', genuine, evidence(genuine, { signature: withByte(genuine.signature, genuine.signature.length - 1, flip) }), refused('signature'));
  add('aik-byte-flipped', 'one bit of the AIK point (y) flipped: not on the curve', genuine, evidence(genuine, { aik: withByte(genuine.aik, genuine.aik.length - 1, flip) }), refused('aik_key'));
  const rsa = m['rsa2048-rsassa'];
  // TPM2B_PUBLIC: size(2) type(2) nameAlg(2) objectAttributes(4, big-endian); restricted is bit 16.
  add('aik-restricted-bit-cleared', '`restricted` cleared in a genuine RSA AIK: the signature still verifies, the key is no attestation key', rsa, evidence(rsa, { aik: withByte(rsa.aik, 7, (byte) => byte & ~0x01) }), refused('aik_attributes'));
  add('signature-hash-relabelled', 'the ECDSA signature relabelled sha384 (same r and s)', genuine, evidence(genuine, { signature: withByte(withByte(genuine.signature, 2, () => TPM_ALG_SHA384 >> 8), 3, () => TPM_ALG_SHA384 & 0xff) }), refused('signature_scheme', 'signature', 'pcr_digest'));

  // PCR reports that do not match the quote.
  add('pcr-value-edited', 'PCR 7 reported with another value', genuine, evidence(genuine, { values: genuine.values.map((value, i) => (i === 1 ? withByte(value, 0, flip) : value)) }), refused('pcr_digest'));
  add('pcr-banks-relabelled', 'the same values reported as PCRs 0,7,11 (the quote covers 0,7,10)', genuine, evidence(genuine, { indices: [0, 7, 11] }), refused('pcr_selection'));
  add('pcr-subset', 'only PCRs 0,7 reported (the quote covers 0,7,10)', genuine, evidence(genuine, { indices: [0, 7], values: genuine.values.slice(0, 2) }), refused('pcr_selection', 'pcr_digest'));

  // Structures that do not unmarshal exactly.
  add('quote-truncated', 'TPM2B_ATTEST missing its last byte', genuine, evidence(genuine, { quote: genuine.quote.subarray(0, -1) }), refused('quote_structure'));
  add('quote-trailing-byte', 'a zero byte after the TPM2B_ATTEST', genuine, evidence(genuine, { quote: Buffer.concat([genuine.quote, Buffer.alloc(1)]) }), refused('quote_structure'));
  add('quote-inner-trailing-byte', 'TPM2B_ATTEST one byte longer, the extra byte after the TPMS_ATTEST', genuine, evidence(genuine, { quote: tpm2b(Buffer.concat([attest, Buffer.alloc(1)])) }), refused('quote_structure'));
  add('signature-truncated', 'TPMT_SIGNATURE missing its last byte', genuine, evidence(genuine, { signature: genuine.signature.subarray(0, -1) }), refused('signature_structure'));
  add('signature-trailing-byte', 'a zero byte after the TPMT_SIGNATURE', genuine, evidence(genuine, { signature: Buffer.concat([genuine.signature, Buffer.alloc(1)]) }), refused('signature_structure'));
  add('aik-truncated', 'TPM2B_PUBLIC missing its last byte', genuine, evidence(genuine, { aik: genuine.aik.subarray(0, -1) }), refused('aik_structure'));
  add('aik-trailing-byte', 'a zero byte after the TPM2B_PUBLIC', genuine, evidence(genuine, { aik: Buffer.concat([genuine.aik, Buffer.alloc(1)]) }), refused('aik_structure'));

  // Encodings the protocol does not allow (Node's lenient decoder would take them).
  const encoded = (name, description, field, change) =>
    add(name, description, genuine, evidence(genuine), refused('report_format'), { reencode: { field, change } });
  encoded('quote-not-base64', 'quote_b64 with a character outside the base64 alphabet', 'quote_b64', (text) => `${text.slice(0, 8)}*${text.slice(9)}`);
  encoded('quote-base64-line-breaks', 'quote_b64 broken into MIME lines', 'quote_b64', (text) => text.replace(/(.{64})/g, '$1\n'));
  encoded('quote-base64url', 'quote_b64 in the base64url alphabet without padding', 'quote_b64', (text) => text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  encoded('quote-base64-unpadded', 'quote_b64 without its padding', 'quote_b64', (text) => text.replace(/=+$/, ''));

  add('attestation-not-available', 'is_available false, though every other field is present', genuine, evidence(genuine), refused('available'), { unavailable: true });
  return list;
}

// --- commands ---------------------------------------------------------------------------

function forge(quoteDir, forgedDir) {
  const attest = Buffer.from(fs.readFileSync(path.join(quoteDir, 'attest.msg')));
  const madeUp = [0, 7, 10].map((pcr) => crypto.createHash('sha256').update(`nomyo forged pcr ${pcr}`).digest());
  const digest = crypto.createHash('sha256').update(Buffer.concat(madeUp)).digest();
  const offset = quoteDigestOffset(attest);
  if (attest.length - offset !== digest.length) throw new Error('the quote is not SHA-256 signed');
  digest.copy(attest, offset);
  fs.writeFileSync(path.join(forgedDir, 'attest.msg'), attest);
  fs.writeFileSync(path.join(forgedDir, 'pcrs.bin'), Buffer.concat(madeUp));
}

function prepare(materialDir, vectorsDir) {
  const materials = readMaterials(materialDir);
  const out = [];
  vectors(materials).forEach((vector, position) => {
    const payloadId = vector.payload_id ?? vector.material.payloadId;
    const block = report(vector.wire);
    if (vector.unavailable) block.is_available = false;
    if (vector.reencode) {
      const text = block[vector.reencode.field];
      block[vector.reencode.field] = vector.reencode.change(text);
      if (block[vector.reencode.field] === text) throw new Error(`${vector.name}: the re-encoding changed nothing`);
    }
    const dir = path.join(vectorsDir, `${String(position).padStart(2, '0')}-${vector.name}`);
    fs.mkdirSync(dir, { recursive: true });
    // tpm2_checkquote reads files, not the report: it can judge a vector only
    // when the report decodes. It gets the bytes after the TPM2B_ATTEST size as -m.
    if (!vector.reencode && !vector.unavailable) {
      const { wire } = vector;
      fs.writeFileSync(path.join(dir, 'aik.pub'), wire.aik);
      fs.writeFileSync(path.join(dir, 'attest.msg'), wire.quote.subarray(2));
      fs.writeFileSync(path.join(dir, 'signature.bin'), wire.signature);
      fs.writeFileSync(path.join(dir, 'pcrs.bin'), Buffer.concat(wire.values));
      const args = ['-l', block.pcr_banks, '-q', nonceHex(payloadId), '-g', vector.material.hash];
      fs.writeFileSync(path.join(dir, 'checkquote.args'), `${args.join('\n')}\n`);
    }
    out.push({
      dir: path.basename(dir),
      name: vector.name,
      description: vector.description,
      material: vector.material.name,
      payload_id: payloadId,
      tpm_attestation: block,
      expect: vector.expect,
    });
  });
  fs.writeFileSync(path.join(vectorsDir, 'partial.json'), JSON.stringify(out));
}

function finish(vectorsDir, outFile, tpm2Tools, swtpm) {
  const partial = JSON.parse(fs.readFileSync(path.join(vectorsDir, 'partial.json'), 'utf8'));
  const verdict = (dir, file) => {
    const at = path.join(vectorsDir, dir, file);
    return fs.existsSync(at) ? fs.readFileSync(at, 'utf8').trim() : 'not_applicable';
  };
  const list = partial.map(({ dir, ...vector }) => ({
    ...vector,
    checkquote_verdict: verdict(dir, 'checkquote.verdict'),
    checkquote_verdict_no_pcrs: verdict(dir, 'checkquote-no-pcrs.verdict'),
  }));
  const document = {
    about:
      'TPM 2.0 quote vectors for the verifier of _metadata.tpm_attestation. Generated by ' +
      'scripts/attestation/generate-vectors.sh against swtpm; do not edit by hand. `expect` is our verdict ' +
      '(failure_check: the first failed check; failed_checks: all of them). checkquote_verdict is ' +
      'tpm2_checkquote with -u aik -m attest -s signature -f pcrs -l <pcr_banks> -q <nonce> -g <signing hash>; ' +
      'checkquote_verdict_no_pcrs the same without -f and -l. tpm2_checkquote is a cross-check, not ground truth.',
    tools: { 'tpm2-tools': tpm2Tools, swtpm },
    checkquote_accepts_what_we_refuse: list
      .filter((v) => !v.expect.verified && (v.checkquote_verdict === 'accept' || v.checkquote_verdict_no_pcrs === 'accept'))
      .map((v) => v.name),
    checkquote_rejects_what_we_accept: list
      .filter((v) => v.expect.verified && (v.checkquote_verdict === 'reject' || v.checkquote_verdict_no_pcrs === 'reject'))
      .map((v) => v.name),
    vectors: list,
  };
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, `${JSON.stringify(document, null, 2)}\n`);
}

const [command, ...args] = process.argv.slice(2);
const commands = { forge, prepare, finish };
if (!commands[command]) {
  console.error('usage: assemble-vectors.cjs forge|prepare|finish ...');
  process.exit(2);
}
commands[command](...args);
