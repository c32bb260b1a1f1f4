import assert from "node:assert/strict";
import { startOnce } from "./helpers/server_process.ts";

Deno.test("first start on an empty data dir prints one operator token, one device key and the client command, once", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const first = await startOnce(dataDir, { viaTask: true });
    assert.match(first.output, /operator token: a3o_[A-Za-z0-9_-]{43}/);
    const deviceKey = /device key:\s+(a3d_[A-Za-z0-9_-]{43})/.exec(first.output)?.[1];
    assert.ok(deviceKey, first.output);
    assert.ok(first.output.includes(`deno task client --connect ws://127.0.0.1:`), first.output);
    assert.ok(first.output.includes(`--key ${deviceKey}`));
    assert.match(
      first.output,
      /--key a3d_\S+ --name my-device --files-dir ~\/\.local\/share\/alien3\/files\n/,
      "the join command names the files dir",
    );
    assert.match(first.output, /~\/\.local\/share\/alien3\/files is the default on Linux/);
    assert.equal(first.code, 0, "SIGTERM stops the server cleanly");
    const second = await startOnce(dataDir, { viaTask: true });
    assert.doesNotMatch(second.output, /a3o_|a3d_/, "keys are printed only on the first start");
    assert.match(second.output, /listening on/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
