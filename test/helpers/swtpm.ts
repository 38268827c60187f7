// A private swtpm for a test file: two consecutive free loopback ports, a state
// directory of its own, stopped by PID. Plus tpm2-tools run against it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const TPM_PACKAGES = 'swtpm swtpm-tools tpm2-tools';

/** The tools the TPM tests need that are not on PATH. */
export function missingTpmTools(tools = ['swtpm', 'tpm2_createprimary', 'tpm2_quote', 'tpm2_checkquote']): string[] {
  return tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
}

function listen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port P such that P and P+1 were both free on 127.0.0.1 a moment ago. */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await listen(0);
    if (!first) continue;
    const port = (first.address() as net.AddressInfo).port;
    const second = port < 65535 ? await listen(port + 1) : undefined;
    await close(first);
    if (second) {
      await close(second);
      return port;
    }
  }
  throw new Error('no two consecutive free ports on 127.0.0.1');
}

export interface Swtpm {
  readonly port: number;
  /** Environment for tpm2-tools: TPM2TOOLS_TCTI pointing at this TPM. */
  readonly env: NodeJS.ProcessEnv;
  /** A scratch directory removed with the TPM. */
  readonly workDir: string;
  /** Runs a tpm2-tools command; throws with its stderr when it fails. */
  tool(command: string, args: string[]): string;
  /** Flushes transient objects: without a resource manager they stay loaded. */
  flush(): void;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export async function startSwtpm(): Promise<Swtpm> {
  const missing = missingTpmTools();
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: apt-get install ${TPM_PACKAGES}`);
  const workDir = mkdtempSync(path.join(tmpdir(), 'nomyo-swtpm-'));
  const stateDir = path.join(workDir, 'state');
  mkdirSync(stateDir);

  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePortPair();
    const child = spawn(
      'swtpm',
      [
        'socket', '--tpm2',
        '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
        '--tpmstate', `dir=${stateDir}`,
        '--flags', 'startup-clear',
      ],
      { stdio: 'ignore' },
    );
    const env = { ...process.env, TPM2TOOLS_TCTI: `swtpm:host=127.0.0.1,port=${port}` };
    const tool = (command: string, args: string[]): string => {
      const run = spawnSync(command, args, { env, cwd: workDir, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${run.stderr || run.error?.message}`);
      return run.stdout;
    };
    const stop = async (): Promise<void> => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited(child);
    };
    // Ready once it answers a command; if the ports were taken meanwhile it exits, and we try others.
    for (let probe = 0; probe < 100 && child.exitCode === null; probe++) {
      if (spawnSync('tpm2_pcrread', ['sha256:0'], { env }).status === 0) {
        return {
          port,
          env,
          workDir,
          tool,
          flush: () => void tool('tpm2_flushcontext', ['-t']),
          stop: async () => {
            await stop();
            rmSync(workDir, { recursive: true, force: true });
          },
        };
      }
      await sleep(50);
    }
    await stop();
  }
  rmSync(workDir, { recursive: true, force: true });
  throw new Error('swtpm did not start');
}
