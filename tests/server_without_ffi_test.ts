import assert from "node:assert/strict";

const root = new URL("..", import.meta.url).pathname;

Deno.test("the server starts without --allow-ffi: sharp loads on first use, and only screen text says it is unavailable", async () => {
  const dataDir = await Deno.makeTempDir();
  // `deno task server`'s permissions without --allow-ffi.
  const child = new Deno.Command("deno", {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-run=tesseract,deno",
      "server/main.ts",
      ...["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir],
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  try {
    while (!output.includes("listening on")) {
      const { value, done } = await reader.read();
      if (done) break;
      output += value;
    }
  } finally {
    child.kill("SIGTERM");
    await reader.cancel();
  }
  const errors = await stderr;
  await child.status;
  await Deno.remove(dataDir, { recursive: true });
  assert.match(output, /ALIEN3 server listening on/, errors);
  assert.match(errors, /Screen text unavailable.*--allow-ffi/);
});
