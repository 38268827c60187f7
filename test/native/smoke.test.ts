import { backends } from '../helpers/backends';

describe.each(backends)('%s backend round trip', (_name, make) => {
  const backend = make();
  it('seals and opens a JSON request', async () => {
    const key = await backend.generateKeyPair(2048);
    const pub = backend.importPublicKey(key.publicKeyPem());
    const plaintext = backend.serializeJson({ model: 'm', messages: [{ role: 'user', content: 'héllo' }] }, 1 << 20);
    const fields = await backend.seal(plaintext, pub);
    const opened = await backend.open(fields, key);
    expect(backend.parseJson(opened)).toEqual({ model: 'm', messages: [{ role: 'user', content: 'héllo' }] });
  });
});
