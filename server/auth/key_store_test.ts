import assert from "node:assert/strict";
import { openDatabase } from "../store/db.ts";
import { KEY_MIGRATIONS, KeyStore } from "./key_store.ts";

Deno.test("KeyStore stores only hashes and verifies secrets by scope", () => {
  const db = openDatabase(":memory:", KEY_MIGRATIONS);
  const keys = new KeyStore(db);
  const device = keys.create("device", "laptops");
  const operator = keys.create("operator", "alice");
  assert.match(device.secret, /^a3d_[A-Za-z0-9_-]{43}$/);
  assert.match(operator.secret, /^a3o_/);
  const stored = JSON.stringify(db.prepare("SELECT * FROM keys").all());
  assert.ok(!stored.includes(device.secret) && !stored.includes(operator.secret), "no secret in the table");
  assert.equal(keys.verify(device.secret)?.scope, "device");
  assert.equal(keys.verify(operator.secret)?.name, "alice");
  assert.equal(keys.verify(device.secret + "x"), null);
});

Deno.test("KeyStore.revoke() refuses the key afterwards and tells listeners", () => {
  const keys = new KeyStore(openDatabase(":memory:", KEY_MIGRATIONS));
  const { record, secret } = keys.create("device", "temp");
  assert.ok(keys.verify(secret));
  const revoked: string[] = [];
  keys.onRevoke((id) => revoked.push(id));
  assert.equal(keys.revoke("temp")?.id, record.id);
  assert.equal(keys.verify(secret), null);
  assert.deepEqual(revoked, [record.id]);
  assert.equal(keys.revoke("temp"), null, "already revoked");
});

Deno.test("KeyStore notices revocations written by another process", async () => {
  const dir = await Deno.makeTempDir();
  const serverSide = new KeyStore(openDatabase(dir, KEY_MIGRATIONS), { pollMs: 20 });
  try {
    const { record, secret } = serverSide.create("operator", "ops");
    assert.ok(serverSide.verify(secret));
    const revoked = new Promise<string>((resolve) => serverSide.onRevoke(resolve));
    new KeyStore(openDatabase(dir, KEY_MIGRATIONS)).revoke(record.id);
    assert.equal(await revoked, record.id);
    assert.equal(serverSide.verify(secret), null);
  } finally {
    serverSide.close();
    await Deno.remove(dir, { recursive: true });
  }
});
