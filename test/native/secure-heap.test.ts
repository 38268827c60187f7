// RSA private keys live in OpenSSL's secure heap, which the addon sets up (and
// OpenSSL locks) when nothing else did: their numbers are allocated there, and
// freed (cleared) from there when the key is disposed.
import { createNativeBackend } from '../../lib/crypto/native-backend';
import { describeMemoryFacts } from '../../lib/memory-protection';
import { productionBinding } from '../helpers/backends';

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
