import assert from "node:assert/strict";
import { CredentialStore } from "./credentials.ts";

const server = "ws://10.0.0.5:8080/v1/device";

Deno.test("CredentialStore keeps a minted key in a 0600 file and hands it back only for its enrollment key", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const store = new CredentialStore(dataDir);
    assert.equal(await store.load(server, "lab-1", "a3e_enroll"), null, "nothing stored yet");
    const path = await store.save(
      server,
      "lab-1",
      "a3e_enroll",
      { keyId: "key_1", secret: "a3d_minted" },
      new Date(0),
    );
    assert.equal(path, `${dataDir}/credentials/lab-1@10.0.0.5_8080.json`);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dataDir}/credentials`)).mode! & 0o777, 0o700);
    assert.equal((await store.load(server, "lab-1", "a3e_enroll"))?.secret, "a3d_minted");
    assert.equal(await store.load(server, "lab-1", "a3d_fleet"), null, "another key is used as given");
    assert.equal(await store.load(server, "lab-2", "a3e_enroll"), null, "another name has no key");
    assert.equal(await store.load("ws://10.0.0.6:8080/v1/device", "lab-1", "a3e_enroll"), null);
    assert.ok(!(await Deno.readTextFile(path)).includes("a3e_enroll"), "the enrollment key is kept hashed");
    assert.deepEqual([...Deno.readDirSync(`${dataDir}/credentials`)].map((e) => e.name), [
      "lab-1@10.0.0.5_8080.json",
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("CredentialStore refuses a damaged file with a message naming it", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const store = new CredentialStore(dataDir);
    await Deno.mkdir(`${dataDir}/credentials`);
    await Deno.writeTextFile(store.pathFor(server, "lab-1"), "{not json");
    await assert.rejects(
      () => store.load(server, "lab-1", "k"),
      /Cannot read .*lab-1@10\.0\.0\.5_8080\.json/,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
