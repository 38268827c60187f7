// Peak RSS of one 10 MiB request, SDK beside the plain client, each in a fresh
// child process; then the SDK again as a user without CAP_IPC_LOCK under the
// 8 MiB RLIMIT_MEMLOCK (capsh --drop=cap_ipc_lock), which must still work and
// say how much of the plaintext was locked.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { median } from '../measure';
import type { MemoryChildInput, MemoryChildOutput } from '../memory-child';

export interface MemoryResult {
  sdk: { peakRiseBytes: number; runs: MemoryChildOutput[] };
  plain: { peakRiseBytes: number; runs: MemoryChildOutput[] };
  /** Null when capsh is not available. */
  lockLimited: MemoryChildOutput | null;
  lockLimitedNote?: string;
}

const CHILD = path.join(__dirname, '..', 'memory-child.js');

function runChild(input: MemoryChildInput, dropIpcLock: boolean): Promise<MemoryChildOutput> {
  const env = { ...process.env, NOMYO_BENCH_CHILD: JSON.stringify(input) };
  const [file, args] = dropIpcLock
    ? ['capsh', ['--drop=cap_ipc_lock', '--', '-c', 'exec "$0" --expose-gc "$1"', process.execPath, CHILD]]
    : [process.execPath, ['--expose-gc', CHILD]];
  return new Promise((resolve, reject) => {
    execFile(file, args as string[], { env, maxBuffer: 1 << 20, timeout: 120_000 }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as MemoryChildOutput);
      } catch {
        reject(new Error(`memory child (${input.client}${dropIpcLock ? ', no CAP_IPC_LOCK' : ''}) failed: ${error?.message ?? ''} ${stderr.trim()}`));
      }
    });
  });
}

function findCapsh(): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, 'capsh')));
}

export async function runMemory(url: string, keyDir: string, reps: number): Promise<MemoryResult> {
  const sdkRuns: MemoryChildOutput[] = [];
  const plainRuns: MemoryChildOutput[] = [];
  for (let i = 0; i < reps; i++) {
    const order: Array<'sdk' | 'plain'> = i % 2 === 0 ? ['sdk', 'plain'] : ['plain', 'sdk'];
    for (const client of order) {
      const result = await runChild({ client, url, keyDir }, false);
      (client === 'sdk' ? sdkRuns : plainRuns).push(result);
    }
  }
  const result: MemoryResult = {
    sdk: { peakRiseBytes: median(sdkRuns.map((r) => r.peakRiseBytes)), runs: sdkRuns },
    plain: { peakRiseBytes: median(plainRuns.map((r) => r.peakRiseBytes)), runs: plainRuns },
    lockLimited: null,
  };
  if (findCapsh()) {
    result.lockLimited = await runChild({ client: 'sdk', url, keyDir }, true);
  } else {
    result.lockLimitedNote = 'capsh not found: the lock-limit run was skipped';
  }
  return result;
}
