import assert from "node:assert/strict";
import { migrate, openDatabase } from "../store/db.ts";
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

Deno.test("KeyStore binds a device key to one device name and refuses a binding for other scopes", () => {
  const keys = new KeyStore(openDatabase(":memory:", KEY_MIGRATIONS));
  const bound = keys.create("device", "lab-3 key", { device: "lab-3" });
  assert.equal(keys.verify(bound.secret)?.device, "lab-3");
  assert.equal(keys.verify(keys.create("device", "fleet").secret)?.device, null, "a fleet key");
  assert.throws(() => keys.create("operator", "x", { device: "lab-3" }), /only a device key/);
});

Deno.test("KeyStore.enroll() mints one bound device key per name until that key is revoked", () => {
  const keys = new KeyStore(openDatabase(":memory:", KEY_MIGRATIONS));
  const enrollment = keys.create("enroll", "lab enrollment");
  assert.match(enrollment.secret, /^a3e_[A-Za-z0-9_-]{43}$/);
  const minted = keys.enroll(enrollment.record.id, "lab-1");
  assert.ok(minted);
  assert.match(minted.secret, /^a3d_/);
  assert.deepEqual(
    { ...keys.verify(minted.secret), createdAt: 0, id: "" },
    {
      id: "",
      scope: "device",
      name: "lab-1",
      createdAt: 0,
      revokedAt: null,
      device: "lab-1",
      enrolledBy: enrollment.record.id,
    },
  );
  assert.equal(keys.enroll(enrollment.record.id, "lab-1"), null, "the name is taken while its key lives");
  assert.ok(keys.enroll(enrollment.record.id, "lab-2"), "another name enrolls");
  keys.revoke(minted.record.id);
  assert.ok(keys.enroll(enrollment.record.id, "lab-1"), "after revocation the name can enroll again");
  keys.create("device", "ops-made", { device: "lab-9" });
  assert.equal(
    keys.enroll(enrollment.record.id, "lab-9"),
    null,
    "an operator's bound key also holds the name",
  );
});

Deno.test("the enrollment migration keeps every key made before it", () => {
  const db = openDatabase(":memory:", KEY_MIGRATIONS.filter((m) => m.id === 1));
  db.prepare("INSERT INTO keys (id, scope, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)").run(
    "key_old",
    "device",
    "old fleet",
    "0".repeat(64),
    5,
  );
  migrate(db, KEY_MIGRATIONS);
  const [old] = new KeyStore(db).list();
  assert.deepEqual(old, {
    id: "key_old",
    scope: "device",
    name: "old fleet",
    createdAt: 5,
    revokedAt: null,
    device: null,
    enrolledBy: null,
  });
});
