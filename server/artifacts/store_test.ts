import assert from "node:assert/strict";
import { join } from "node:path";
import { ManualClock } from "../../shared/clock.ts";
import { ArtifactStore } from "./store.ts";

const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);
const producedBy = { nodeId: "n1", deviceId: "dev_1" };

async function withStore(run: (store: ArtifactStore, clock: ManualClock, dataDir: string) => Promise<void>) {
  const dataDir = await Deno.makeTempDir({ prefix: "store_test_" });
  const clock = new ManualClock(1000);
  try {
    await run(await ArtifactStore.open({ dataDir, clock }), clock, dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

async function writePartial(store: ArtifactStore, text: string): Promise<string> {
  const partial = await store.createPartial();
  await partial.file.write(new TextEncoder().encode(text));
  partial.file.close();
  return partial.path;
}

Deno.test("ArtifactStore commits a partial file under <dataDir>/artifacts/<dagId>/<artifact>", async () => {
  await withStore(async (store, _clock, dataDir) => {
    const partial = await writePartial(store, "hello");
    const meta = await store.commit(partial, "dag-1", "report.pdf", { size: 5, sha256: SHA_A, producedBy });
    assert.deepEqual(meta, { size: 5, sha256: SHA_A, createdAt: 1000, producedBy });
    assert.equal(await Deno.readTextFile(join(dataDir, "artifacts", "dag-1", "report.pdf")), "hello");
    assert.deepEqual(await store.describe("dag-1", "report.pdf"), meta);
    assert.equal(await store.has("dag-1", "report.pdf"), true);
    assert.deepEqual([...Deno.readDirSync(store.partialDir)], [], "the partial file was moved");
    const opened = await store.open("dag-1", "report.pdf");
    assert.ok(opened !== null);
    assert.equal(await new Response(opened.stream).text(), "hello");
  });
});

Deno.test("ArtifactStore replaces an older version of an artifact", async () => {
  await withStore(async (store, clock) => {
    await store.commit(await writePartial(store, "one"), "d", "a", { size: 3, sha256: SHA_A, producedBy });
    clock.advance(500);
    await store.commit(await writePartial(store, "three"), "d", "a", { size: 5, sha256: SHA_B, producedBy });
    const meta = await store.describe("d", "a");
    assert.equal(meta?.sha256, SHA_B);
    assert.equal(meta?.createdAt, 1500);
    assert.deepEqual((await store.list("d")).map((entry) => [entry.artifact, entry.meta.size]), [["a", 5]]);
  });
});

Deno.test("ArtifactStore answers nothing for unknown or unsafe names and refuses to store them", async () => {
  await withStore(async (store) => {
    assert.equal(await store.describe("dag-1", "missing"), null);
    assert.equal(await store.open("dag-1", "missing"), null);
    assert.deepEqual(await store.list("no-such-dag"), []);
    for (const [dagId, artifact] of [["..", "x"], ["d", "../x"], ["d", ".meta"], [".partial", "x"]]) {
      assert.equal(await store.has(dagId, artifact), false);
      const partial = await writePartial(store, "x");
      await assert.rejects(
        store.commit(partial, dagId, artifact, { size: 1, sha256: SHA_A, producedBy }),
        /Cannot store artifact: invalid name/,
      );
      await store.discard(partial);
    }
  });
});

Deno.test("ArtifactStore.open() deletes partial files a previous run left behind", async () => {
  await withStore(async (store, clock, dataDir) => {
    await writePartial(store, "half");
    assert.equal([...Deno.readDirSync(store.partialDir)].length, 1);
    const reopened = await ArtifactStore.open({ dataDir, clock });
    assert.deepEqual([...Deno.readDirSync(reopened.partialDir)], []);
  });
});
