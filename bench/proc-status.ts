// Linux process facts from /proc: resident set size, its high-water mark (which
// can be reset, so that a peak belongs to one piece of work), capabilities.
import * as fs from 'node:fs';

function statusField(name: string): string | undefined {
  const line = fs
    .readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

function kib(name: string): number {
  return Number.parseInt(statusField(name) ?? 'NaN', 10) * 1024;
}

export function rssBytes(): number {
  return kib('VmRSS');
}

export function peakRssBytes(): number {
  return kib('VmHWM');
}

/** Resets VmHWM to the current RSS (Linux 4.0+). Returns false where refused. */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

const CAP_IPC_LOCK = 14n;

export function hasCapIpcLock(): boolean {
  const effective = statusField('CapEff');
  return effective !== undefined && ((BigInt(`0x${effective}`) >> CAP_IPC_LOCK) & 1n) === 1n;
}
