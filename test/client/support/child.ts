// Child Node processes running a script against the SDK's TypeScript sources,
// for what must be seen from outside the jest worker (NODE_DEBUG, stdout, stderr).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir } from './keys';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Lets a child require lib/*.ts, transpiled on the fly by the project's own typescript. */
const typeScriptPrelude = `
(() => {
  const fs = require('node:fs');
  const ts = require(${JSON.stringify(require.resolve('typescript'))});
  require.extensions['.ts'] = (module, filename) => {
    const output = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    module._compile(output.outputText, filename);
  };
})();
const sdk = require(${JSON.stringify(path.join(repoRoot, 'lib', 'index.ts'))});
const server = require(${JSON.stringify(path.join(repoRoot, 'lib', 'server', 'index.ts'))});
`;

export interface ChildResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `body` (CommonJS JavaScript with `sdk` and `server` in scope) in a child
 * node. The environment is this process's (so NOMYO_FORCE_FALLBACK carries over)
 * with NODE_DEBUG removed, then `env` applied.
 */
export function runSdkScript(body: string, env: Record<string, string> = {}): Promise<ChildResult> {
  const dir = makeTempDir('nomyo-client-child-');
  const script = path.join(dir, 'script.js');
  fs.writeFileSync(script, `${typeScriptPrelude}\n${body}\n`, { mode: 0o600 });
  const childEnv: Record<string, string | undefined> = { ...process.env };
  delete childEnv.NODE_DEBUG;
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (status) =>
      resolve({ status, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }),
    );
  });
}
