// tpm2-tools as child processes. Talking to a TPM needs libtss2-esys, and esys
// pulls in the system libcrypto, whose symbols the OpenSSL compiled into node
// would interpose if esys were loaded into this process. So the server keeps
// esys out and runs one tool per TPM step: execFile, no shell, the TCTI in the
// environment.
import { execFile } from 'node:child_process';
import { NomyoError } from '../errors';

/** The TPM answered that it has not seen TPM2_Startup since it was reset. */
export const TPM_RC_INITIALIZE = 0x100;

/** Generous for swtpm and most TPM chips; slow discrete TPMs can take seconds to make an RSA key. */
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;

/** A tpm2-tools step that did not succeed. The message is safe to log: tool name, exit, TPM error. */
export class TpmToolError extends NomyoError {
  override readonly name: string = 'TpmToolError';
  readonly tool: string;
  /** The TPM (or TSS) response code the tool printed, when it printed one. */
  readonly tpmRc: number | undefined;
  /** The tool was killed after the timeout: the TPM is hanging, and trying again would hang too. */
  readonly timedOut: boolean;

  constructor(tool: string, reason: string, details: { tpmRc?: number; timedOut?: boolean } = {}) {
    super(`${tool} ${reason}`, 'NOMYO_TPM_TOOL_FAILED');
    this.tool = tool;
    this.tpmRc = details.tpmRc;
    this.timedOut = details.timedOut ?? false;
  }
}

export interface TpmTools {
  readonly tcti: string;
  /** Runs one tool to completion; rejects with a TpmToolError. */
  run(tool: string, args: string[]): Promise<void>;
}

/** The first response code a tool printed, as in "Esys_ContextLoad(0x1DF)" or "ErrorCode (0x00000100)". */
function responseCode(stderr: string): number | undefined {
  const match = /\(0x([0-9a-f]{1,8})\)/i.exec(stderr);
  return match ? Number.parseInt(match[1]!, 16) : undefined;
}

/** The tool's own first error line, shortened: enough to tell a refused connection from a TPM error. */
function firstError(stderr: string): string | undefined {
  const line = stderr.split('\n').find((text) => text.startsWith('ERROR'));
  return line?.trim().slice(0, 200);
}

/**
 * The children get a minimal environment: the server's own holds API keys that
 * no TPM tool needs.
 */
function toolEnvironment(tcti: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { TPM2TOOLS_TCTI: tcti };
  for (const name of ['PATH', 'LD_LIBRARY_PATH']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return env;
}

type ExecFailure = Error & { code?: string | number | null; killed?: boolean; signal?: string | null };

function toolError(tool: string, failure: ExecFailure, stderr: string, timeoutMs: number): TpmToolError {
  if (failure.code === 'ENOENT') return new TpmToolError(tool, 'was not found: install tpm2-tools');
  // `killed` is set when node sent the signal, which it does only on the timeout.
  if (failure.killed) return new TpmToolError(tool, `did not finish within ${timeoutMs} ms`, { timedOut: true });
  let exit: string;
  if (typeof failure.code === 'number') exit = `exited with ${failure.code}`;
  else if (failure.signal) exit = `was killed by ${failure.signal}`;
  else exit = `failed (${failure.code ?? 'spawn error'})`;
  const detail = firstError(stderr);
  const tpmRc = responseCode(stderr);
  return new TpmToolError(tool, detail === undefined ? exit : `${exit}: ${detail}`, tpmRc === undefined ? {} : { tpmRc });
}

export function createTpmTools(tcti: string, timeoutMs = DEFAULT_TOOL_TIMEOUT_MS): TpmTools {
  const env = toolEnvironment(tcti);
  return {
    tcti,
    run: (tool, args) =>
      new Promise((resolve, reject) => {
        execFile(
          tool,
          args,
          { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, encoding: 'utf8' },
          (error, _stdout, stderr) => {
            if (error) reject(toolError(tool, error, stderr, timeoutMs));
            else resolve();
          },
        );
      }),
  };
}
