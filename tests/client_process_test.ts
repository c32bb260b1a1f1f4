import assert from "node:assert/strict";
import { startGatewayServer as startGateway, until } from "./helpers/gateway_harness.ts";
import { freePort } from "./helpers/ports.ts";

const live = { sanitizeResources: false, sanitizeOps: false };
const clientMain = new URL("../client/main.ts", import.meta.url).pathname;

function spawnClient(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", clientMain, ...args],
    env: { DISPLAY: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test(
  "a headless client joins, shows up ready without screens or input, and leaves cleanly on SIGTERM",
  live,
  async () => {
    const h = startGateway();
    const filesDir = await Deno.makeTempDir();
    const child = spawnClient([
      "--connect",
      h.url,
      "--key",
      h.deviceKey.secret,
      "--name",
      "headless-box",
      "--tags",
      "files,ci",
      "--files-dir",
      filesDir,
      "--log",
      "json",
    ]);
    const stderr = collect(child.stderr);
    try {
      await until(
        () => h.gateway.devices().some((d) => d.state === "ready"),
        "the client to be ready",
        15_000,
      );
      const [device] = h.gateway.devices();
      assert.equal(device.name, "headless-box");
      assert.deepEqual(device.capabilities.screens, []);
      assert.deepEqual(device.capabilities.input, { mouse: false, keyboard: false });
      assert.deepEqual(device.capabilities.tags, ["files", "ci"]);
      assert.equal(device.capabilities.os.platform, "linux");
      child.kill("SIGTERM");
      const status = await child.status;
      assert.equal(status.code, 0);
      await until(() => h.offline.length === 1, "the device to go offline", 10_000);
      assert.deepEqual(h.offline.map((o) => o.reason), ["bye"], "the client said BYE");
      const lines = (await stderr).trim().split("\n").map((line) => JSON.parse(line));
      assert.ok(
        lines.some((l) => l.message === "status" && String(l.connection).startsWith("connected as dev_")),
      );
    } finally {
      await child.stdout.cancel();
      await h.close();
      await Deno.remove(filesDir, { recursive: true });
    }
  },
);

Deno.test("a client with a rejected key exits non-zero with a clear message", live, async () => {
  const h = startGateway();
  const child = spawnClient([
    "--connect",
    h.url,
    "--key",
    "wrong-key",
    "--files-dir",
    await Deno.makeTempDir(),
  ]);
  try {
    const [status, stderr] = await Promise.all([child.status, collect(child.stderr)]);
    assert.equal(status.code, 3);
    assert.match(stderr, /Cannot authenticate: key is missing, wrong or revoked/);
  } finally {
    await child.stdout.cancel();
    await h.close();
  }
});

Deno.test("a client that cannot reach the server exits non-zero naming the URL", async () => {
  const port = freePort();
  const child = spawnClient([
    "--connect",
    `ws://127.0.0.1:${port}/v1/device`,
    "--key",
    "k",
    "--files-dir",
    await Deno.makeTempDir(),
  ]);
  const [status, stderr] = await Promise.all([child.status, collect(child.stderr)]);
  await child.stdout.cancel();
  assert.equal(status.code, 4);
  assert.match(stderr, new RegExp(`Cannot reach ws://127\\.0\\.0\\.1:${port}/v1/device`));
});

Deno.test("the client rejects bad flags with usage and exit code 2", async () => {
  const child = spawnClient(["--connect", "http://nope"]);
  const [status, stderr] = await Promise.all([child.status, collect(child.stderr)]);
  await child.stdout.cancel();
  assert.equal(status.code, 2);
  assert.match(stderr, /Usage: deno task client/);
});
