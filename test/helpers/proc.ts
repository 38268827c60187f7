// What the kernel says about this process's memory: /proc/self/status and smaps.
import * as fs from 'node:fs';

/** VmLck of this process, in KiB. */
export function vmLockedKiB(): number {
  const match = /^VmLck:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (!match) throw new Error('/proc/self/status has no VmLck line');
  return Number(match[1]);
}

export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  /** Two-letter VmFlags, e.g. 'lo' (locked), 'dd' (do not dump). */
  vmFlags: string[];
  /** The "Locked:" figure, in KiB. */
  lockedKiB: number;
}

export function readMappings(): Mapping[] {
  const mappings: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) /.exec(line);
    if (header) {
      current = { start: BigInt(`0x${header[1]}`), end: BigInt(`0x${header[2]}`), perms: header[3]!, vmFlags: [], lockedKiB: 0 };
      mappings.push(current);
      continue;
    }
    if (!current) continue;
    const locked = /^Locked:\s+(\d+) kB$/.exec(line);
    if (locked) current.lockedKiB = Number(locked[1]);
    if (line.startsWith('VmFlags:')) current.vmFlags = line.slice('VmFlags:'.length).trim().split(/\s+/);
  }
  return mappings;
}

/** The mapping that contains `address`, if any. */
export function mappingAt(address: bigint, mappings: Mapping[] = readMappings()): Mapping | undefined {
  return mappings.find((m) => m.start <= address && address < m.end);
}
