// RSA private keys live in OpenSSL's secure heap, which the addon sets up (and
// OpenSSL locks) when nothing else did: their numbers are allocated there, and
// freed (cleared) from there when the key is disposed.
import { createNativeBackend } from '../../lib/crypto/native-backend';
import { describeMemoryFacts } from '../../lib/memory-protection';
import { productionBinding } from '../helpers/backends';
import { lastJsonLine, productionAddonPath, runNodeScript, testHooksAddonPath } from '../helpers/commands';

const binding = productionBinding();

describe('OpenSSL secure heap for private keys (native)', () => {
  it('is set up and locked, and says so', () => {
    const facts = binding.memoryFacts();
    expect(facts.openssl_secure_heap).toBe(true);
    expect(facts.openssl_secure_heap_locked).toBe(true);
    const info = describeMemoryFacts(createNativeBackend(binding).memoryFacts());
    expect(info.private_keys_in_secure_heap).toBe(true);
    expect(info.details.join('\n')).toContain('secure heap (locked, cleared on free)');
  });

  // Two copies of the addon in one process (the test build and the production
  // one, as jest workers see them): only the first sets the heap up; the second
  // must learn whether it is locked from the kernel, not assume either way.
  it('is reported locked by an addon that did not set it up itself', () => {
    const script = `
      const first = require(process.env.FIRST_ADDON);
      const second = require(process.env.SECOND_ADDON);
      const a = first.memoryFacts(), b = second.memoryFacts();
      console.log(JSON.stringify({ first: [a.openssl_secure_heap, a.openssl_secure_heap_locked], second: [b.openssl_secure_heap, b.openssl_secure_heap_locked] }));
    `;
    const result = runNodeScript(script, { env: { FIRST_ADDON: testHooksAddonPath, SECOND_ADDON: productionAddonPath } });
    expect(result.status).toBe(0);
    expect(lastJsonLine(result)).toEqual({ first: [true, true], second: [true, true] });
  });

  it('holds a generated key and an imported key, and gives the space back on dispose', async () => {
    // Each threadpool thread keeps a little state of its own in the secure heap
    // once it has generated a key (256 bytes here): let every thread do so first.
    const warmup = await Promise.all(Array.from({ length: 8 }, () => binding.PrivateKey.generate(2048)));
    warmup.forEach((key) => key.dispose());
    const before = binding.memoryFacts().openssl_secure_heap_used;
    const generated = await binding.PrivateKey.generate(2048);
    const afterGenerate = binding.memoryFacts().openssl_secure_heap_used;
    expect(afterGenerate).toBeGreaterThan(before);

    const pem = await generated.exportPem();
    const imported = await binding.PrivateKey.importPem(pem);
    pem.dispose();
    const afterImport = binding.memoryFacts().openssl_secure_heap_used;
    expect(afterImport).toBeGreaterThan(afterGenerate);

    generated.dispose();
    imported.dispose();
    expect(binding.memoryFacts().openssl_secure_heap_used).toBe(before);
  });
});
