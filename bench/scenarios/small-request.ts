// A small exchange, 1 KiB request + 1 KiB response: all the client's crypto
// (seal the request, open the response, JSON both ways) beside one RSA-4096
// private operation, which it cannot avoid.
import type { Floor } from '../floor';
import { interleave, Laps, medianStages, nowMs, summarize } from '../measure';
import type { Summary } from '../measure';
import type { Fixture } from '../fixture';
import { chatRequest } from '../payloads';
import { plainOpen, plainSeal } from '../plain-client';
import { responseBody } from '../response-bodies';
import { asExchange, sdkOpen, sdkSeal } from '../sdk-paths';

export interface SmallRequestResult {
  sdk: Summary & { stages: Record<string, number> };
  plain: Summary & { stages: Record<string, number> };
  rsaPrivate: Summary;
  /** Everything the floor has to do for one exchange: RSA public + private op, AES over 2 KiB. */
  floorExchange: Summary;
}

export async function runSmallRequest(fixture: Fixture, floor: Floor, reps: number): Promise<SmallRequestResult> {
  const request = chatRequest(1024);
  const body = responseBody(1024, fixture.clientPublicKeyObject);
  const results = await interleave(
    {
      sdk: () =>
        asExchange(fixture.backend, async (exchange) => {
          const sealLaps = new Laps();
          await sdkSeal(fixture.backend, request, fixture.serverPublicKey, sealLaps);
          const openLaps = new Laps();
          await sdkOpen(fixture.backend, body, fixture.clientKey, openLaps, exchange);
          const seal = sealLaps.result();
          const open = openLaps.result();
          return { ms: seal.ms + open.ms, stages: { ...prefixed('seal.', seal.stages!), ...prefixed('open.', open.stages!) } };
        }),
      plain: () => {
        const laps = new Laps();
        plainSeal(request, fixture.serverPublicKeyObject);
        laps.lap('seal');
        plainOpen(body, fixture.clientKeyObject);
        laps.lap('open');
        return laps.result();
      },
      rsaPrivate: () => {
        const start = nowMs();
        floor.rsaPrivate();
        return { ms: nowMs() - start };
      },
      floorExchange: () => {
        const start = nowMs();
        floor.rsaPublic();
        floor.aesGcm(1024);
        floor.rsaPrivate();
        floor.aesGcm(1024);
        return { ms: nowMs() - start };
      },
    },
    { reps, warmup: 20 },
  );
  return {
    sdk: { ...summarize(results.sdk!.samples), stages: medianStages(results.sdk!.stages) },
    plain: { ...summarize(results.plain!.samples), stages: medianStages(results.plain!.stages) },
    rsaPrivate: summarize(results.rsaPrivate!.samples),
    floorExchange: summarize(results.floorExchange!.samples),
  };
}

function prefixed(prefix: string, stages: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, ms] of Object.entries(stages)) out[prefix + name] = ms;
  return out;
}
