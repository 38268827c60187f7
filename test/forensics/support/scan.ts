// Searching core dumps and heap snapshots for canaries and for AES keys.
// Files are read in chunks (cores of a Node process are hundreds of MB to over a
// GB here: gdb writes the PROT_NONE reservations out as zeros), never whole.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

/** Bytes read at a time (tests of the scanner itself pass smaller chunks). */
const CHUNK_BYTES = 32 * 1024 * 1024;
/** Bytes read before and after each chunk, so a hit's context is never cut. */
const CONTEXT_BYTES = 96;
const PAGE = 4096;
const KEY_BYTES = 32;

// ---------------------------------------------------------------- ELF cores

const PT_LOAD = 1;
const PN_XNUM = 0xffff;

export interface LoadSegment {
  fileOffset: number;
  vaddr: bigint;
  /** Bytes present in the file (0 for what the dumper left out, e.g. MADV_DONTDUMP pages). */
  fileSize: number;
  memSize: number;
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const n = fs.readSync(fd, buffer, 0, length, offset);
  if (n !== length) throw new Error(`short read at ${offset}: ${n} of ${length} bytes`);
  return buffer;
}

/** The PT_LOAD segments of an ELF64 little-endian core file. */
export function loadSegments(file: string): LoadSegment[] {
  const fd = fs.openSync(file, 'r');
  try {
    const header = readAt(fd, 0, 64);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) {
      throw new Error(`${file} is not an ELF64 little-endian file`);
    }
    if (header.readUInt16LE(0x10) !== 4) throw new Error(`${file} is not a core file (e_type ${header.readUInt16LE(0x10)})`);
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    let phnum = header.readUInt16LE(0x38);
    if (phnum === PN_XNUM) {
      // More than 65534 headers: the real count is in section header 0's sh_info.
      const shoff = Number(header.readBigUInt64LE(0x28));
      phnum = readAt(fd, shoff, 64).readUInt32LE(0x2c);
    }
    const table = readAt(fd, phoff, phentsize * phnum);
    const segments: LoadSegment[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      if (table.readUInt32LE(at) !== PT_LOAD) continue;
      segments.push({
        fileOffset: Number(table.readBigUInt64LE(at + 8)),
        vaddr: table.readBigUInt64LE(at + 16),
        fileSize: Number(table.readBigUInt64LE(at + 32)),
        memSize: Number(table.readBigUInt64LE(at + 40)),
      });
    }
    return segments;
  } finally {
    fs.closeSync(fd);
  }
}

/** The virtual address a file offset of the core holds, if it lies in a PT_LOAD segment. */
export function addressOf(segments: LoadSegment[], fileOffset: number): bigint | undefined {
  const segment = segments.find((s) => s.fileOffset <= fileOffset && fileOffset < s.fileOffset + s.fileSize);
  return segment ? segment.vaddr + BigInt(fileOffset - segment.fileOffset) : undefined;
}

// ---------------------------------------------------------------- canaries

export type Encoding = 'utf8' | 'utf16le';

export interface CanaryHit {
  offset: number;
  encoding: Encoding;
  /** What follows the prefix: REQ-007, KEEP, HELD, LIVE-STRING, LIVE-BUFFER, LIVE-WIDE, or '?' */
  label: string;
  /** Preceded by "echo: " — the bytes of a reply, which exist only in responses. */
  reply: boolean;
  /** Inside JSON text ("content":"…): a serialized document, not a lone string. */
  json: boolean;
  /**
   * Laid out as the characters of a V8 sequential string holding exactly this
   * canary: the 32-bit length field just before them equals the canary's length
   * in characters (V8 lays out a sequential string as map, 32-bit hash, 32-bit
   * length, characters, with or without pointer compression). Anything else is
   * a copy in some other form: a Buffer, malloc'd memory, a larger text.
   */
  v8String: boolean;
}

const LABEL = /^(REQ-\d{3}|KEEP|HELD|LIVE-STRING|LIVE-BUFFER|LIVE-WIDE)/;
const JSON_CONTENT = /"content"\s*:\s*"$/;

/**
 * Every occurrence of `prefix` (UTF-8 and UTF-16LE) in `file`, with what
 * surrounds it. All canaries share the prefix, so one pass finds them all.
 */
export function findCanaries(file: string, prefix: string, chunkBytes = CHUNK_BYTES): CanaryHit[] {
  const needles: Array<[Encoding, Buffer]> = [
    ['utf8', Buffer.from(prefix, 'utf8')],
    ['utf16le', Buffer.from(prefix, 'utf16le')],
  ];
  const hits: CanaryHit[] = [];
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(chunkBytes + 2 * CONTEXT_BYTES);
  try {
    for (let pos = 0; pos < size; pos += chunkBytes) {
      const start = Math.max(0, pos - CONTEXT_BYTES);
      const length = Math.min(size, pos + chunkBytes + CONTEXT_BYTES) - start;
      const n = fs.readSync(fd, buffer, 0, length, start);
      if (n !== length) throw new Error(`short read of ${file} at ${start}`);
      const view = buffer.subarray(0, n);
      const own = pos - start; // hits starting in [own, own + chunkBytes) belong to this chunk
      for (const [encoding, needle] of needles) {
        for (let i = view.indexOf(needle, own); i !== -1 && i < own + chunkBytes; i = view.indexOf(needle, i + 1)) {
          hits.push(classify(view, i, needle.length, encoding, start + i));
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return hits;
}

function classify(view: Buffer, at: number, needleLength: number, encoding: Encoding, offset: number): CanaryHit {
  const width = encoding === 'utf8' ? 1 : 2;
  const decode = (from: number, to: number): string =>
    view.toString(encoding === 'utf8' ? 'latin1' : 'utf16le', Math.max(0, from), Math.min(view.length, to));
  const after = decode(at + needleLength, at + needleLength + 16 * width);
  const before = decode(at - 32 * width, at);
  const reply = before.endsWith('echo: ');
  const json = JSON_CONTENT.test(reply ? before.slice(0, -'echo: '.length) : before);
  const label = LABEL.exec(after)?.[1] ?? '?';
  // The string starts at the "echo: " for a reply, at the prefix otherwise.
  const stringStart = reply ? at - 'echo: '.length * width : at;
  const characters = needleLength / width + label.length + (reply ? 'echo: '.length : 0);
  const v8String = label !== '?' && stringStart >= 4 && view.readUInt32LE(stringStart - 4) === characters;
  return { offset, encoding, label, reply, json, v8String };
}

// ---------------------------------------------------------------- AES keys

/**
 * Which 32-byte windows are hashed. A window is skipped when it has 4 or more
 * zero bytes, or 2 or fewer bytes with the high bit set. For uniformly random
 * 32 bytes (an AES key) the first happens with probability ~8.4e-6 and the
 * second ~1.2e-7: a copy of a key is missed with probability below 1e-5, while
 * pointers, small integers, ASCII and UTF-16 text — most of a process — are
 * never hashed.
 */
const MAX_ZERO_BYTES = 3;
const MIN_HIGH_BYTES = 3;

export interface KeyScanOptions {
  /** 1: every offset; 8: only windows at 8-byte aligned addresses. */
  step: 1 | 8;
  /** Bytes read at a time: a multiple of the page size (default 32 MiB). */
  chunkBytes?: number;
}

export interface KeyScanResult {
  bytesScanned: number;
  /** Pages skipped because they are all zeros. */
  zeroPages: number;
  windowsHashed: number;
  hits: Array<{ fileOffset: number; address: bigint | undefined; keyHash: string }>;
}

const sha256Hex: (data: Buffer) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash(a: string, d: Buffer, e: string): string }).hash('sha256', data, 'hex')
    : (data) => crypto.createHash('sha256').update(data).digest('hex');

/**
 * Looks for any 32-byte window of the core's loaded segments whose SHA-256 is
 * one of `keyHashes`. Segment file offsets are page-aligned, so file-offset
 * alignment is address alignment.
 */
export function findKeys(file: string, keyHashes: readonly string[], options: KeyScanOptions): KeyScanResult {
  const wanted = new Set(keyHashes.map((h) => h.toLowerCase()));
  const segments = loadSegments(file).filter((s) => s.fileSize > 0);
  const result: KeyScanResult = { bytesScanned: 0, zeroPages: 0, windowsHashed: 0, hits: [] };
  const zeroPage = Buffer.alloc(PAGE);
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  if (chunkBytes % PAGE !== 0) throw new Error('chunkBytes must be a multiple of the page size');
  const buffer = Buffer.allocUnsafe(chunkBytes + KEY_BYTES);
  const fd = fs.openSync(file, 'r');
  try {
    for (const segment of segments) {
      const end = segment.fileOffset + segment.fileSize;
      for (let pos = segment.fileOffset; pos < end; pos += chunkBytes) {
        // Windows starting in [pos, pos + chunkBytes) may reach KEY_BYTES - 1 further.
        const length = Math.min(end, pos + chunkBytes + KEY_BYTES - 1) - pos;
        if (fs.readSync(fd, buffer, 0, length, pos) !== length) throw new Error(`short read of ${file} at ${pos}`);
        const starts = Math.min(chunkBytes, length - KEY_BYTES + 1);
        result.bytesScanned += Math.min(chunkBytes, end - pos);
        scanChunk(buffer, length, starts, options.step, zeroPage, result, (at) => {
          const keyHash = sha256Hex(buffer.subarray(at, at + KEY_BYTES));
          if (wanted.has(keyHash)) {
            result.hits.push({ fileOffset: pos + at, address: segment.vaddr + BigInt(pos + at - segment.fileOffset), keyHash });
          }
        });
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return result;
}

/**
 * Calls `candidate(i)` for each window start i in [0, starts) (multiples of
 * `step`) that passes the filter. `length` bytes of `buffer` are valid, and
 * every window starting before `starts` lies within them.
 */
function scanChunk(
  buffer: Buffer,
  length: number,
  starts: number,
  step: number,
  zeroPage: Buffer,
  result: KeyScanResult,
  candidate: (at: number) => void,
): void {
  const windows = (first: number, last: number): void => {
    let from = first + ((step - (first % step)) % step);
    if (from >= last) return;
    let zeros = 0;
    let high = 0;
    for (let i = from; i < from + KEY_BYTES; i++) {
      const b = buffer[i]!;
      if (b === 0) zeros++;
      high += b >> 7;
    }
    for (;;) {
      if (zeros <= MAX_ZERO_BYTES && high >= MIN_HIGH_BYTES && from % step === 0) {
        result.windowsHashed++;
        candidate(from);
      }
      if (from + 1 >= last) return;
      const out = buffer[from]!;
      const inn = buffer[from + KEY_BYTES]!;
      if (out === 0) zeros--;
      high -= out >> 7;
      if (inn === 0) zeros++;
      high += inn >> 7;
      from++;
    }
  };
  let next = 0; // the first window start not yet considered
  for (let page = 0; page < starts; page += PAGE) {
    const pageEnd = Math.min(page + PAGE, length);
    if (pageEnd - page === PAGE && buffer.compare(zeroPage, 0, PAGE, page, pageEnd) === 0) {
      result.zeroPages++;
      // Windows starting in this page hold 4 or more zeros, except the last 3.
      next = Math.max(next, pageEnd - MAX_ZERO_BYTES);
      continue;
    }
    const last = Math.min(pageEnd, starts);
    windows(Math.max(next, page - (KEY_BYTES - 1), 0), last);
    next = Math.max(next, last);
  }
  if (next < starts) windows(next, starts);
}
