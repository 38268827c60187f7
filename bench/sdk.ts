// The SDK under test is the built one (dist/ and the addon node-gyp-build finds),
// as users get it. Types come from the sources; nothing of lib/ runs from here.
import * as path from 'node:path';
import type * as CryptoModule from '../lib/crypto';
import type * as IndexModule from '../lib/index';
import type * as PackageModule from '../lib/protocol/package';
import type * as ConstantsModule from '../lib/protocol/constants';
import type * as ServerModule from '../lib/server/index';
import type * as TurnQueueModule from '../lib/client/turn-queue';

/** The package root: this file runs from dist-bench/bench/. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

function load<T>(relative: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(PACKAGE_ROOT, 'dist', relative)) as T;
}

export const sdk = load<typeof IndexModule>('index');
export const sdkCrypto = load<typeof CryptoModule>('crypto');
export const sdkPackage = load<typeof PackageModule>(path.join('protocol', 'package'));
export const sdkConstants = load<typeof ConstantsModule>(path.join('protocol', 'constants'));
export const sdkServer = load<typeof ServerModule>(path.join('server', 'index'));
export const sdkTurnQueue = load<typeof TurnQueueModule>(path.join('client', 'turn-queue'));

export type { CryptoBackend, Exchange, PrivateKeyHandle, PublicKeyHandle, Secret, SealedFields } from '../lib/crypto';
export type { ChatCompletionCreateParams } from '../lib/index';
