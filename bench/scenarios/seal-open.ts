// Seal (request object → package bytes) and open (package bytes → response
// object) at several sizes: the SDK, the plain node:crypto client and the
// OpenSSL floor, interleaved.
import { Floor } from '../floor';
import { interleave, Laps, medianStages, summarize } from '../measure';
import type { Summary } from '../measure';
import type { Fixture } from '../fixture';
import { chatRequest, sizeLabel } from '../payloads';
import { plainOpen, plainSeal } from '../plain-client';
import { responseBody } from '../response-bodies';
import { asExchange, sdkOpen, sdkSeal } from '../sdk-paths';

export interface Contender extends Summary {
  /** Median time of each stage, ms. */
  stages: Record<string, number>;
}

export interface SizeResult {
  label: string;
  /** Plaintext JSON bytes. */
  bytes: number;
  /** Package bytes on the wire. */
  packageBytes: number;
  sdk: Contender;
  plain: Contender;
  floor: Contender;
}

export interface SealOpenResult {
  seal: SizeResult[];
  open: SizeResult[];
}

export const SIZES = [1024, 100 * 1024, 1024 * 1024, 10 * 1024 * 1024];

function repsFor(bytes: number, scale: number): { reps: number; warmup: number } {
  const reps = bytes <= 1024 ? 30 : bytes <= 100 * 1024 ? 20 : bytes <= 1024 * 1024 ? 12 : 7;
  return { reps: Math.max(3, Math.round(reps * scale)), warmup: bytes >= 10 * 1024 * 1024 ? 1 : 2 };
}

function contender(result: { samples: number[]; stages: Record<string, number[]> }): Contender {
  return { ...summarize(result.samples), stages: medianStages(result.stages) };
}

export async function runSealOpen(fixture: Fixture, floor: Floor, scale: number, log: (line: string) => void): Promise<SealOpenResult> {
  const { backend } = fixture;
  const out: SealOpenResult = { seal: [], open: [] };
  for (const bytes of SIZES) {
    const label = sizeLabel(bytes);
    // A 10 MiB request is as large as the protocol allows: stay just under it.
    const request = chatRequest(bytes >= 10 * 1024 * 1024 ? bytes - 256 : bytes);
    const requestBytes = Buffer.byteLength(JSON.stringify(request));
    const options = { ...repsFor(bytes, scale), gcBetween: bytes >= 1024 * 1024 };

    let sealedBytes = 0;
    const seal = await interleave(
      {
        sdk: async () => {
          const laps = new Laps();
          sealedBytes = (await sdkSeal(backend, request, fixture.serverPublicKey, laps)).length;
          return laps.result();
        },
        plain: () => {
          const laps = new Laps();
          plainSeal(request, fixture.serverPublicKeyObject, laps);
          return laps.result();
        },
        floor: () => {
          const laps = new Laps();
          floor.seal(requestBytes, laps);
          return laps.result();
        },
      },
      options,
    );
    out.seal.push({
      label,
      bytes: requestBytes,
      packageBytes: sealedBytes,
      sdk: contender(seal.sdk!),
      plain: contender(seal.plain!),
      floor: contender(seal.floor!),
    });
    log(`seal ${label}: sdk ${seal.sdk!.samples.length} samples done`);

    const body = responseBody(bytes, fixture.clientPublicKeyObject);
    const open = await interleave(
      {
        sdk: async () => {
          const laps = new Laps();
          await asExchange(backend, (exchange) => sdkOpen(backend, body, fixture.clientKey, laps, exchange));
          return laps.result();
        },
        plain: () => {
          const laps = new Laps();
          plainOpen(body, fixture.clientKeyObject, laps);
          return laps.result();
        },
        floor: () => {
          const laps = new Laps();
          floor.open(bytes, laps);
          return laps.result();
        },
      },
      options,
    );
    out.open.push({
      label,
      bytes,
      packageBytes: body.length,
      sdk: contender(open.sdk!),
      plain: contender(open.plain!),
      floor: contender(open.floor!),
    });
    log(`open ${label}: done`);
  }
  return out;
}
