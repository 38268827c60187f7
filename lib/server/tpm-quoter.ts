// TPM 2.0 quotes for `_metadata.tpm_attestation` (PROTOCOL.md): for every
// request a fresh attestation key (AIK) under a storage primary, a quote of
// sha256:0,7,10 qualified by the request's payload id, and the PCR values.
//
// The TPM is driven through tpm2-tools (see tpm-tools.ts) without a resource
// manager, so every step is followed by `tpm2_flushcontext -t`: a tool leaves
// the objects it loaded in the TPM, which has only a few slots. TPM access is
// serialized through one queue: the steps of two requests must not interleave
// (each flush drops every transient object), and a TPM does one thing at a time anyway.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { attestationNonce } from '../attestation/nonce';
import { NomyoError } from '../errors';
import type { Logger } from '../logging';
import { SerialQueue } from './serial-queue';
import { createTpmTools, TPM_RC_INITIALIZE, TpmToolError } from './tpm-tools';
import type { TpmTools } from './tpm-tools';
import { readQuoteInfo } from './tpms-attest';

export type TpmAikAlgorithm = 'ecc' | 'rsa';

/** `_metadata.tpm_attestation` when a quote was made. */
export interface TpmAttestationBlock {
  is_available: true;
  pcr_banks: string;
  pcr_values: { sha256: Record<string, string> };
  aik_pubkey_b64: string;
  quote_b64: string;
  signature_b64: string;
}

export const TPM_AIK_ALGORITHMS: readonly TpmAikAlgorithm[] = ['ecc', 'rsa'];

export function isTpmAikAlgorithm(value: unknown): value is TpmAikAlgorithm {
  return typeof value === 'string' && (TPM_AIK_ALGORITHMS as readonly string[]).includes(value);
}

/** Firmware (0), Secure Boot policy (7) and the IMA/OS measurements (10). */
const PCR_INDICES = [0, 7, 10] as const;
const PCR_SELECTION = `sha256:${PCR_INDICES.join(',')}`;
const SHA256_BYTES = 32;
/** A signing key that only signs TPM-generated structures: it cannot be made to sign a forged quote. */
const AIK_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign';
const AIKS: Readonly<Record<TpmAikAlgorithm, { template: string; label: string }>> = {
  ecc: { template: 'ecc256:ecdsa-sha256:null', label: 'ECC P-256' },
  rsa: { template: 'rsa2048:rsassa-sha256:null', label: 'RSA-2048' },
};
const PCRS_CHANGED = 'NOMYO_TPM_PCRS_CHANGED';

/** A quote could not be made. Messages name steps and TPM errors, never request content. */
export class TpmQuoteError extends NomyoError {
  override readonly name: string = 'TpmQuoteError';
  constructor(message: string, code = 'NOMYO_TPM_QUOTE_FAILED') {
    super(message, code);
  }
}

export interface TpmQuoterOptions {
  /** e.g. 'swtpm:host=127.0.0.1,port=2321' or 'device:/dev/tpmrm0'. */
  tcti: string;
  /** Default 'ecc' (P-256): about 60 times faster to make than an RSA-2048 key. */
  aikAlgorithm?: TpmAikAlgorithm;
  logger: Logger;
  toolTimeoutMs?: number;
}

function describeFailure(error: unknown): string {
  if (error instanceof NomyoError) return error.message;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return `${error instanceof Error ? error.name : typeof error}${code ? ` ${code}` : ''}`;
}

function milliseconds(from: number, to: number): string {
  return (to - from).toFixed(1);
}

function assembleBlock(nonce: Buffer, aikPublic: Buffer, attest: Buffer, signature: Buffer, pcrs: Buffer): TpmAttestationBlock {
  if (pcrs.length !== PCR_INDICES.length * SHA256_BYTES) {
    throw new TpmQuoteError(`tpm2_quote wrote ${pcrs.length} bytes of PCR values, not ${PCR_INDICES.length * SHA256_BYTES}`);
  }
  let info: ReturnType<typeof readQuoteInfo>;
  try {
    info = readQuoteInfo(attest);
  } catch (error) {
    throw new TpmQuoteError(`tpm2_quote wrote an unexpected TPMS_ATTEST (${(error as Error).message})`);
  }
  if (!info.extraData.equals(nonce)) throw new TpmQuoteError("the quote does not carry the request's nonce");
  // The values come from a PCR read of their own, not from the signed quote: a
  // measurement extended in between would make them disagree with what the TPM
  // signed, and every verifier would refuse the block. Worth another try, not an answer.
  if (!createHash('sha256').update(pcrs).digest().equals(info.pcrDigest)) {
    throw new TpmQuoteError('the PCR values changed during the quote', PCRS_CHANGED);
  }
  const size = Buffer.alloc(2);
  size.writeUInt16BE(attest.length);
  const values: Record<string, string> = {};
  PCR_INDICES.forEach((index, position) => {
    values[String(index)] = pcrs.subarray(position * SHA256_BYTES, (position + 1) * SHA256_BYTES).toString('hex');
  });
  return {
    is_available: true,
    pcr_banks: PCR_SELECTION,
    pcr_values: { sha256: values },
    aik_pubkey_b64: aikPublic.toString('base64'),
    quote_b64: Buffer.concat([size, attest]).toString('base64'),
    signature_b64: signature.toString('base64'),
  };
}

export class TpmQuoter {
  readonly aikAlgorithm: TpmAikAlgorithm;
  readonly #tools: TpmTools;
  readonly #logger: Logger;
  /** Private (mkdtemp: mode 0700): the primary's saved context and one subdirectory per quote. */
  readonly #dir: string;
  readonly #primaryContext: string;
  readonly #queue = new SerialQueue();
  #primaryReady = false;
  /** Failures are logged as a warning once, then quietly until a quote succeeds again. */
  #failing = false;
  #closed: Promise<void> | undefined;

  private constructor(options: TpmQuoterOptions, aikAlgorithm: TpmAikAlgorithm, dir: string) {
    this.aikAlgorithm = aikAlgorithm;
    this.#tools = createTpmTools(options.tcti, options.toolTimeoutMs);
    this.#logger = options.logger;
    this.#dir = dir;
    this.#primaryContext = path.join(dir, 'primary.ctx');
  }

  /** Creates the storage primary; rejects (code NOMYO_TPM_UNAVAILABLE) when the TPM cannot be used. */
  static async start(options: TpmQuoterOptions): Promise<TpmQuoter> {
    const aikAlgorithm = options.aikAlgorithm ?? 'ecc';
    const dir = await mkdtemp(path.join(tmpdir(), 'nomyo-tpm-'));
    const quoter = new TpmQuoter(options, aikAlgorithm, dir);
    const startedAt = performance.now();
    try {
      // #withRecovery makes the primary before any work; at start that is the whole job.
      await quoter.#queue.run(() => quoter.#withRecovery(async () => undefined));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw new TpmQuoteError(`the TPM at ${options.tcti} cannot be used: ${describeFailure(error)}`, 'NOMYO_TPM_UNAVAILABLE');
    }
    options.logger.info(
      `reference server: TPM attestation through ${options.tcti}, a fresh ${AIKS[aikAlgorithm].label} AIK per request ` +
        `(storage primary created in ${milliseconds(startedAt, performance.now())} ms)`,
    );
    return quoter;
  }

  /**
   * A quote for one request, qualified by SHA-256(payloadId)[:16]. Skipped (rejects
   * with an AbortError) when `signal` aborts before the request's turn comes.
   */
  quote(payloadId: string, signal?: AbortSignal): Promise<TpmAttestationBlock> {
    if (this.#closed) return Promise.reject(new TpmQuoteError('the TPM quoter is closed'));
    const queuedAt = performance.now();
    return this.#queue.run(async () => {
      // The client is gone: its quote would be thrown away, and others wait behind it.
      signal?.throwIfAborted();
      const startedAt = performance.now();
      let block: TpmAttestationBlock;
      try {
        block = await this.#withRecovery(() => this.#quoteOnce(payloadId));
      } catch (error) {
        this.#noteFailure(error);
        throw error;
      }
      const finishedAt = performance.now();
      if (this.#failing) this.#logger.info('reference server: TPM attestation works again');
      this.#failing = false;
      this.#logger.debug(
        `reference server: TPM quote with a fresh ${AIKS[this.aikAlgorithm].label} AIK took ` +
          `${milliseconds(startedAt, finishedAt)} ms (queued ${milliseconds(queuedAt, startedAt)} ms)`,
      );
      return block;
    });
  }

  /** Waits for the quotes already queued, then removes the private directory. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#queue.idle();
      await rm(this.#dir, { recursive: true, force: true });
    })();
    return this.#closed;
  }

  #noteFailure(error: unknown): void {
    const line = `reference server: TPM attestation failed: ${describeFailure(error)}`;
    if (this.#failing) {
      this.#logger.debug(line);
    } else {
      this.#logger.warn(line);
      this.#failing = true;
    }
  }

  /**
   * One more try after a failure that a fresh start can cure. A TPM that was
   * reset or restarted refuses the saved context of the old primary (and, if
   * nothing sent TPM2_Startup, every command): start it if it says so, recreate
   * the primary, and go again. A hanging TPM is not retried.
   */
  async #withRecovery<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.#withPrimary(work);
    } catch (error) {
      if (error instanceof TpmToolError && error.timedOut) throw error;
      if (!(error instanceof TpmQuoteError && error.code === PCRS_CHANGED)) this.#primaryReady = false;
      if (error instanceof TpmToolError && error.tpmRc === TPM_RC_INITIALIZE) {
        this.#logger.warn('reference server: the TPM was reset and not started; sending TPM2_Startup(CLEAR)');
        await this.#tools.run('tpm2_startup', ['-c']).catch(() => undefined);
      }
      return await this.#withPrimary(work);
    }
  }

  async #withPrimary<T>(work: () => Promise<T>): Promise<T> {
    if (!this.#primaryReady) await this.#createPrimary();
    return work();
  }

  /** TPM2_CreatePrimary of an ECC P-256 storage key; its context is saved for the per-request steps. */
  async #createPrimary(): Promise<void> {
    await this.#step('tpm2_createprimary', ['-Q', '-C', 'o', '-g', 'sha256', '-G', 'ecc256', '-c', this.#primaryContext]);
    this.#primaryReady = true;
  }

  /** One tool, then the flush that frees the slots it left occupied. */
  async #step(tool: string, args: string[]): Promise<void> {
    try {
      await this.#tools.run(tool, args);
    } catch (error) {
      if (!(error instanceof TpmToolError && error.timedOut)) await this.#flush().catch(() => undefined);
      throw error;
    }
    await this.#flush();
  }

  #flush(): Promise<void> {
    return this.#tools.run('tpm2_flushcontext', ['-t']);
  }

  async #quoteOnce(payloadId: string): Promise<TpmAttestationBlock> {
    const dir = await mkdtemp(path.join(this.#dir, 'quote-'));
    const file = (name: string): string => path.join(dir, name);
    const nonce = attestationNonce(payloadId);
    try {
      // TPM2_Create, not TPM2_CreatePrimary: the same template under a primary
      // seed would give the same key every time.
      await this.#step('tpm2_create', [
        '-Q', '-C', this.#primaryContext, '-G', AIKS[this.aikAlgorithm].template, '-a', AIK_ATTRIBUTES,
        '-u', file('aik.pub'), '-r', file('aik.priv'),
      ]);
      await this.#step('tpm2_load', ['-Q', '-C', this.#primaryContext, '-u', file('aik.pub'), '-r', file('aik.priv'), '-c', file('aik.ctx')]);
      // -m: a bare TPMS_ATTEST; -s: a TPMT_SIGNATURE; -o with -F values: the PCR digests, concatenated in selection order.
      await this.#step('tpm2_quote', [
        '-Q', '-c', file('aik.ctx'), '-l', PCR_SELECTION, '-q', nonce.toString('hex'), '-g', 'sha256',
        '-m', file('quote.msg'), '-s', file('quote.sig'), '-o', file('pcrs.bin'), '-F', 'values',
      ]);
      const [aikPublic, attest, signature, pcrs] = await Promise.all(
        ['aik.pub', 'quote.msg', 'quote.sig', 'pcrs.bin'].map((name) => readFile(file(name))),
      );
      return assembleBlock(nonce, aikPublic!, attest!, signature!, pcrs!);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
