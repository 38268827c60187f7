// The addon's crypto threads (native/crypto/crypto_threads.cc) across the life
// of a process: each case runs in a child of its own, since what is tested is
// how the process, or a worker thread in it, ends.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const CHILD = path.join(__dirname, 'support', 'crypto-threads-child.cjs');

function runChild(mode: string): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CHILD, mode], { encoding: 'utf8' });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

describe('the crypto threads', () => {
  it('keep the process alive while an open is all it waits for, and let it exit after', () => {
    const child = runChild('lone');
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('opened 100000\n');
    expect(child.status).toBe(0);
  });

  it('let process.exit() end the process while opens are queued and running', () => {
    const child = runChild('exit');
    expect(child.signal).toBeNull();
    expect(child.status).toBe(7);
    expect(child.stderr).toBe('');
  });

  it('survive worker threads terminated with opens in flight, and go on serving', () => {
    const child = runChild('workers');
    expect(child.signal).toBeNull();
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('opened 1000\n');
    expect(child.status).toBe(0);
  });

  it('are never more than the CPUs the process may use, and run five nice levels below the JS thread', () => {
    const child = runChild('threads');
    expect(child.stderr).toBe('');
    const seen = JSON.parse(child.stdout) as { threads: number; cpus: number; own: number; crypto: number[] };
    expect(seen.threads).toBeGreaterThanOrEqual(1);
    expect(seen.threads).toBeLessThanOrEqual(seen.cpus);
    expect(seen.crypto).toEqual(Array.from({ length: seen.threads }, () => Math.min(seen.own + 5, 19)));
  });
});
