// Run by pack-check.sh inside a fresh project that installed the tarball.
const assert = require('node:assert');
const nomyo = require('nomyo');
const { startReferenceServer } = require('nomyo/server');

(async () => {
  const info = nomyo.getMemoryProtectionInfo();
  assert.strictEqual(info.native_addon, true, 'the prebuilt addon did not load');
  const server = await startReferenceServer({ port: 0, keyBits: 2048 });
  const client = new nomyo.SecureChatCompletion({ baseUrl: server.url, allowHttp: true });
  try {
    const reply = await client.create({ model: 'echo', messages: [{ role: 'user', content: 'pack check' }] });
    assert.strictEqual(reply.choices[0].message.content, 'echo: pack check');
    assert.strictEqual(reply._metadata.memory_protection.native_addon, true);
    console.log('require: round trip ok, memory protection', info.method);
  } finally {
    client.close();
    await server.close();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
