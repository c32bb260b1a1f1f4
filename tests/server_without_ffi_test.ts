import assert from "node:assert/strict";
import { startOnce } from "./helpers/server_process.ts";

Deno.test("the server starts without --allow-ffi: sharp loads on first use, and only screen text says it is unavailable", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    // `deno task server`'s permissions without --allow-ffi.
    const { output, errors } = await startOnce(dataDir, {
      permissions: [
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-sys",
        "--allow-run=tesseract,deno",
      ],
    });
    assert.match(output, /ALIEN3 server listening on/, errors);
    assert.match(errors, /Screen text unavailable.*--allow-ffi/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
