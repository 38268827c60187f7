// The bad-input corpus, built deterministically from one seed: the same seed
// gives the same cases, in the same order, with the same damage, on every run.
// Each class draws from its own sub-stream (Rng.fork), so adding a case to one
// class changes no other class.
//
// SDK-free on purpose (type imports aside): the soak child runs the compiled
// SDK from dist/ and loads this module too, through a TypeScript transpile hook.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { seeded } from './prng';
import type { AttestationCase, AttestationOptionsCase, GenuineVector } from './gen/attestation';
import { generateAttestationCases, generateAttestationNonceCases, generateAttestationOptionsCases } from './gen/attestation';
import type { HttpCase } from './gen/http';
import { generateHttpCases } from './gen/http';
import type { PackageCase } from './gen/packages';
import { generatePackageCases } from './gen/packages';
import type { RequestParamCase } from './gen/params';
import { generateRequestParamCases } from './gen/params';
import type { PemCase } from './gen/pem';
import { generatePemCases } from './gen/pem';

export type { AttestationCase, AttestationOptionsCase, GenuineVector } from './gen/attestation';
export type { ExpectedError, ErrorClassName } from './gen/common';
export type { HttpAction, HttpCase, HttpContext, KeyEndpointMaterial, RawStep } from './gen/http';
export { KEY_ENDPOINT_MATERIALS } from './gen/http';
export type { PackageBase, PackageCase, PackageControl, PackageObject, PackageOutcome } from './gen/packages';
export { cannedCompletion, packageControls, SEALED_PLAINTEXTS } from './gen/packages';
export type { ParamsBuild, ParamsOutcome, RequestParamCase } from './gen/params';
export { goodParams } from './gen/params';
export type { PemCase, PemFile, PemMaterialName, PemMaterials, PemOutcome } from './gen/pem';

/** "nomy". Change it and the corpus changes; keep it and every run sees the same one. */
export const CORPUS_SEED = 0x6e6f6d79;

export const VECTORS_FILE = path.resolve(__dirname, '..', '..', 'fixtures', 'attestation', 'vectors.json');

/** The genuine (verifying) vectors of test/fixtures/attestation/vectors.json. */
export function genuineVectors(file = VECTORS_FILE): GenuineVector[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { vectors: Array<GenuineVector & { expect: { verified: boolean } }> };
  return parsed.vectors
    .filter((v) => v.expect.verified)
    .map((v) => ({ name: v.name, payload_id: v.payload_id, tpm_attestation: v.tpm_attestation }));
}

export interface Corpus {
  seed: number;
  packages: PackageCase[];
  http: HttpCase[];
  pem: PemCase[];
  attestation: AttestationCase[];
  attestationOptions: AttestationOptionsCase[];
  params: RequestParamCase[];
}

export function buildCorpus(seed = CORPUS_SEED, vectors: readonly GenuineVector[] = genuineVectors()): Corpus {
  const root = seeded(seed);
  return {
    seed,
    packages: generatePackageCases(root.fork('packages')),
    http: generateHttpCases(root.fork('http')),
    pem: generatePemCases(root.fork('pem')),
    attestation: [...generateAttestationCases(root.fork('attestation'), vectors), ...generateAttestationNonceCases(vectors)],
    attestationOptions: vectors.length > 0 ? generateAttestationOptionsCases(vectors[0]!) : [],
    params: generateRequestParamCases(root.fork('params')),
  };
}

/** Cases per class, for the report. */
export function corpusCounts(corpus: Corpus): Record<string, number> {
  return {
    packages: corpus.packages.length,
    http: corpus.http.length,
    pem: corpus.pem.length,
    attestation: corpus.attestation.length + corpus.attestationOptions.length,
    params: corpus.params.length,
  };
}
