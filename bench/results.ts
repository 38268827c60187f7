// The shape of a bench run, as printed with --json.
import type { EventLoopResult } from './scenarios/event-loop';
import type { KeygenResult } from './scenarios/keygen';
import type { MemoryResult } from './scenarios/memory';
import type { RoundTripResult } from './scenarios/round-trip';
import type { RsaConcurrencyResult } from './scenarios/rsa-concurrency';
import type { SealOpenResult } from './scenarios/seal-open';
import type { SmallRequestResult } from './scenarios/small-request';

export interface Meta {
  node: string;
  openssl: string;
  nomyoVersions: Record<string, string>;
  cpus: number;
  cpuModel: string;
  aesNi: boolean;
  loadAverage: number[];
  exposeGc: boolean;
  quick: boolean;
  startedAt: string;
  durationSeconds: number;
}

export interface TargetResult {
  name: string;
  measured: number | null;
  limit: number;
  comparison: '<=' | '>=';
  unit: string;
  met: boolean | null;
  detail: string;
}

export interface BenchResults {
  meta: Meta;
  keygen?: KeygenResult;
  sealOpen?: SealOpenResult;
  small?: SmallRequestResult;
  rsaConcurrency?: RsaConcurrencyResult;
  eventLoop?: EventLoopResult;
  memory?: MemoryResult;
  roundTrip?: RoundTripResult;
  targets: TargetResult[];
}
