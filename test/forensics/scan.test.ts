// The scanners the forensics tests rely on, on synthetic files: a key or a canary
// that is there is found wherever it lies (any offset, across chunk and page
// boundaries, next to zero pages), once, with the right context.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addressOf, findCanaries, findKeys, loadSegments } from './support/scan';

const PAGE = 4096;
const VADDR = 0x7f0000000000n;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nomyo-forensics-scan-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A minimal ELF64 core: one PT_LOAD segment holding `data` at VADDR, and one left out of the file (like DONTDUMP pages). */
function writeCore(name: string, data: Buffer): string {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // little-endian
  header[6] = 1;
  header.writeUInt16LE(4, 0x10); // ET_CORE
  header.writeUInt16LE(0x3e, 0x12);
  header.writeUInt32LE(1, 0x14);
  header.writeBigUInt64LE(64n, 0x20); // e_phoff
  header.writeUInt16LE(64, 0x34);
  header.writeUInt16LE(56, 0x36);
  header.writeUInt16LE(2, 0x38);
  const phdrs = Buffer.alloc(2 * 56);
  const segment = (i: number, offset: number, vaddr: bigint, fileSize: number, memSize: number): void => {
    const at = i * 56;
    phdrs.writeUInt32LE(1, at); // PT_LOAD
    phdrs.writeUInt32LE(6, at + 4);
    phdrs.writeBigUInt64LE(BigInt(offset), at + 8);
    phdrs.writeBigUInt64LE(vaddr, at + 16);
    phdrs.writeBigUInt64LE(BigInt(fileSize), at + 32);
    phdrs.writeBigUInt64LE(BigInt(memSize), at + 40);
  };
  segment(0, PAGE, VADDR, data.length, data.length);
  segment(1, PAGE + data.length, VADDR + 0x100000000n, 0, PAGE);
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([header, phdrs, Buffer.alloc(PAGE - 64 - phdrs.length), data]));
  return file;
}

/** 32 random bytes of the kind a key is (few zeros, some high bits), optionally starting with zeros. */
function keyLike(leadingZeros = 0): Buffer {
  for (;;) {
    const key = crypto.randomBytes(32);
    key.fill(0, 0, leadingZeros);
    const zeros = key.filter((b) => b === 0).length;
    const high = key.filter((b) => b >= 0x80).length;
    if (zeros <= 3 && high >= 3) return key;
  }
}

const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

/** Pointer-like filler: 8-byte words with zero high bytes, as much of a process is. */
function pointerFill(buffer: Buffer, from: number, to: number): void {
  for (let at = from; at + 8 <= to; at += 8) buffer.writeBigUInt64LE(0x7f0000000000n + BigInt(crypto.randomInt(1 << 30)) * 8n, at);
}

describe('findKeys', () => {
  const chunkBytes = 4 * PAGE;
  const data = Buffer.alloc(40 * PAGE);
  pointerFill(data, 0, 8 * PAGE); // pages 8-11 stay all zeros
  pointerFill(data, 12 * PAGE, data.length);
  const placements: Array<[string, number, Buffer]> = [
    ['at the start of the segment', 0, keyLike()],
    ['8-byte aligned', 3 * PAGE + 8 * 100, keyLike()],
    ['unaligned', 2 * PAGE + 1001, keyLike()],
    ['straddling two pages', 5 * PAGE - 13, keyLike()],
    ['straddling two chunks', chunkBytes - 7, keyLike()],
    ['starting in the last 3 bytes of a zero page', 12 * PAGE - 3, keyLike(3)],
    ['just after the zero pages', 12 * PAGE + 100, keyLike()],
    ['at the very end', data.length - 32, keyLike()],
  ];
  for (const [, at, key] of placements) key.copy(data, at);
  let file: string;
  beforeAll(() => {
    file = writeCore('keys.core', data);
  });

  it('reads the PT_LOAD segments of a core, including one left out of the file', () => {
    const segments = loadSegments(file);
    expect(segments).toEqual([
      { fileOffset: PAGE, vaddr: VADDR, fileSize: data.length, memSize: data.length },
      { fileOffset: PAGE + data.length, vaddr: VADDR + 0x100000000n, fileSize: 0, memSize: PAGE },
    ]);
    expect(addressOf(segments, PAGE + 10)).toBe(VADDR + 10n);
    expect(addressOf(segments, 10)).toBeUndefined();
  });

  it.each(placements)('finds a key %s, once, at its address (all offsets)', (_where, at, key) => {
    const result = findKeys(file, [sha256(key)], { step: 1, chunkBytes });
    expect(result.hits).toEqual([{ fileOffset: PAGE + at, address: VADDR + BigInt(at), keyHash: sha256(key) }]);
  });

  it('with 8-byte steps finds aligned keys only', () => {
    const hashes = placements.map(([, , key]) => sha256(key));
    const found = new Set(findKeys(file, hashes, { step: 8, chunkBytes }).hits.map((hit) => hit.keyHash));
    for (const [, at, key] of placements) expect([at, found.has(sha256(key))]).toEqual([at, at % 8 === 0]);
  });

  it('skips zero pages and hashes none of the pointer-like filler', () => {
    const result = findKeys(file, [], { step: 1, chunkBytes });
    expect(result.zeroPages).toBe(4);
    expect(result.bytesScanned).toBe(data.length);
    // Only windows overlapping a planted key pass the filter.
    expect(result.windowsHashed).toBeLessThanOrEqual(placements.length * 63);
  });

  it('finds nothing that is not there', () => {
    expect(findKeys(file, [sha256(keyLike())], { step: 1, chunkBytes }).hits).toEqual([]);
  });
});

describe('findCanaries', () => {
  const seed = crypto.randomBytes(8).toString('hex');
  const prefix = `CANARY-${seed}-`;
  const chunkBytes = 4096;
  const data = Buffer.alloc(6 * chunkBytes, 0x11);
  /** Writes `text` as a V8 sequential string would hold it: 32-bit length, then the characters. */
  const v8String = (at: number, text: string, encoding: 'latin1' | 'utf16le'): void => {
    data.writeUInt32LE(text.length, at - 4);
    data.write(text, at, encoding);
  };
  v8String(100, `${prefix}REQ-000`, 'latin1');
  v8String(chunkBytes - 10, `echo: ${prefix}REQ-001`, 'latin1'); // straddles a chunk boundary
  data.write(`{"role":"assistant","content":"echo: ${prefix}REQ-002"}`, 2 * chunkBytes - 20, 'latin1');
  data.write(`{"messages":[{"role":"user","content":"${prefix}REQ-003"}]}`, 3 * chunkBytes - 30, 'latin1');
  v8String(3 * chunkBytes + 500, `echo: ${prefix}KEEP`, 'utf16le');
  data.write(`${prefix}LIVE-BUFFER`, 4 * chunkBytes + 2, 'latin1');
  data.write(`${prefix}NOT-A-LABEL`, 5 * chunkBytes + 2, 'latin1');
  let file: string;
  beforeAll(() => {
    file = path.join(dir, 'canaries.bin');
    fs.writeFileSync(file, data);
  });

  it('finds each occurrence once, across chunk boundaries, with its encoding and context', () => {
    const hits = findCanaries(file, prefix, chunkBytes).map(({ label, encoding, reply, json, v8String: isString }) => ({
      label,
      encoding,
      reply,
      json,
      v8String: isString,
    }));
    expect(hits).toEqual(
      expect.arrayContaining([
        { label: 'REQ-000', encoding: 'utf8', reply: false, json: false, v8String: true },
        { label: 'REQ-001', encoding: 'utf8', reply: true, json: false, v8String: true },
        { label: 'REQ-002', encoding: 'utf8', reply: true, json: true, v8String: false },
        { label: 'REQ-003', encoding: 'utf8', reply: false, json: true, v8String: false },
        { label: 'KEEP', encoding: 'utf16le', reply: true, json: false, v8String: true },
        { label: 'LIVE-BUFFER', encoding: 'utf8', reply: false, json: false, v8String: false },
        { label: '?', encoding: 'utf8', reply: false, json: false, v8String: false },
      ]),
    );
    expect(hits).toHaveLength(7);
  });

  it('gives the same answer whatever the chunk size', () => {
    const simplify = (hits: ReturnType<typeof findCanaries>) => hits.map((h) => `${h.offset}:${h.label}:${h.encoding}:${h.reply}:${h.json}:${h.v8String}`).sort();
    expect(simplify(findCanaries(file, prefix, 1000))).toEqual(simplify(findCanaries(file, prefix)));
  });
});
