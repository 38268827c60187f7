// External programs the tests cross-check against (openssl, capsh) and child
// Node processes for what cannot run inside the jest worker.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir } from './tmp';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const productionAddonPath = path.join(repoRoot, 'build', 'Release', 'nomyo.node');
export const testHooksAddonPath = path.join(repoRoot, 'build-cmake', 'Release', 'nomyo_testhooks.node');

/** The absolute path of `command` on PATH (or in the sbin directories), or undefined. */
export function findCommand(command: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs the openssl CLI; throws with its stderr when it fails. */
export function openssl(args: string[], input?: Uint8Array): Buffer {
  try {
    return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr}`, { cause: error });
  }
}

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  /** Extra arguments for node itself, e.g. --expose-gc. */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** Run under `capsh --drop=<cap> --` (the capability leaves the bounding set, so node never has it). */
  dropCapability?: string;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Writes `source` (CommonJS JavaScript) to a temporary file and runs it with
 * this process's node. NOMYO_FORCE_FALLBACK is never inherited.
 */
export function runNodeScript(source: string, options: ChildOptions = {}): ChildResult {
  const tmp = makeTempDir('nomyo-child-');
  try {
    const script = tmp.write('script.js', source);
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    delete env.NOMYO_FORCE_FALLBACK;
    const nodeArgv = [process.execPath, ...(options.nodeArgs ?? []), script];
    let command: string;
    let args: string[];
    if (options.dropCapability) {
      const capsh = findCommand('capsh');
      if (!capsh) throw new Error('capsh is not installed');
      command = capsh;
      args = [`--drop=${options.dropCapability}`, '--', '-c', `exec ${nodeArgv.map(shellQuote).join(' ')}`];
    } else {
      command = process.execPath;
      args = nodeArgv.slice(1);
    }
    const result = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 64 << 20, cwd: tmp.dir });
    if (result.error) throw result.error;
    return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
  } finally {
    tmp.remove();
  }
}

/** The last line of the child's stdout, parsed as JSON; fails with the child's output otherwise. */
export function lastJsonLine<T>(result: ChildResult): T {
  const lines = result.stdout.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(
      `child (status ${result.status}, signal ${result.signal}) printed no JSON result.\n` +
        `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
}

/**
 * JavaScript for a child script: lets it require the SDK's TypeScript sources
 * directly, transpiled on the fly by the project's own `typescript` package.
 */
export const requireTypeScriptPrelude = `
const fs = require('node:fs');
const ts = require(${JSON.stringify(require.resolve('typescript'))});
require.extensions['.ts'] = (module, filename) => {
  const output = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(output.outputText, filename);
};
`;
