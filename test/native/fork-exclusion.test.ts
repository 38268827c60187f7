// Secret pages are kept out of a forked child (MADV_DONTFORK): the kernel marks
// their mapping "dc" (do not copy) in /proc/self/smaps, as the README says.
import * as crypto from 'node:crypto';
import { testHooksBinding } from '../helpers/backends';
import { mappingAt } from '../helpers/proc';

const { SecureBuffer, testing } = testHooksBinding();

describe('secret memory and fork (native, test-hooks build)', () => {
  it.each([
    ['one byte', 1],
    ['1 MiB', 1 << 20],
  ])('%s: the mapping is marked "dc" (not copied into a forked child)', (_what, size) => {
    const secret = SecureBuffer.fromBytes(crypto.randomBytes(size));
    try {
      const mapping = mappingAt(testing.regionAddress(secret));
      expect(mapping).toBeDefined();
      expect(mapping!.vmFlags).toEqual(expect.arrayContaining(['dc', 'dd']));
    } finally {
      secret.dispose();
    }
  });
});
