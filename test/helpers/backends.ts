// Both crypto backends, for tests that must hold on each: the native addon and
// the node:crypto fallback. The native one is required to be built.
import { createNativeBackend } from '../../lib/crypto/native-backend';
import { createNodeCryptoBackend } from '../../lib/crypto/node-crypto-backend';
import type { CryptoBackend } from '../../lib/crypto';
import type { NativeBinding } from '../../lib/native/binding';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/** The production addon, as node-gyp built it. */
export function productionBinding(): NativeBinding {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(root, 'build', 'Release', 'nomyo.node')) as NativeBinding;
}

/** The CMake test-hooks build (NOMYO_TEST_HOOKS): same code plus `testing`. */
export function testHooksBinding(): NativeBinding & { testing: NonNullable<NativeBinding['testing']> } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require(path.join(root, 'build-cmake', 'Release', 'nomyo_testhooks.node')) as NativeBinding;
  if (!binding.testing) throw new Error('the test-hooks addon has no testing hooks');
  return binding as NativeBinding & { testing: NonNullable<NativeBinding['testing']> };
}

export const backends: Array<[string, () => CryptoBackend]> = [
  ['native', () => createNativeBackend(productionBinding())],
  ['node-crypto', () => createNodeCryptoBackend('test')],
];
