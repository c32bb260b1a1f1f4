import assert from "node:assert/strict";
import { until } from "./helpers/gateway_harness.ts";
import { RawDevice } from "./helpers/raw_device.ts";
import { startTestServer } from "./helpers/server.ts";
import { runTask } from "./helpers/task.ts";

const root = new URL("..", import.meta.url).pathname;
const live = { sanitizeResources: false, sanitizeOps: false };
const keys = (...args: string[]) => runTask("keys", ...args);

Deno.test(
  "keys CLI: create prints the secret alone on its last line, list hides it, revoke takes effect on a running server",
  live,
  async () => {
    const server = await startTestServer();
    try {
      const created = await keys(
        "create",
        "--scope",
        "operator",
        "--name",
        "cli-op",
        "--data-dir",
        server.dataDir,
      );
      assert.equal(created.code, 0, created.stderr);
      const secret = created.stdout.trimEnd().split("\n").at(-1)!;
      assert.match(secret, /^a3o_[A-Za-z0-9_-]{43}$/);
      assert.equal(
        (await server.api("/api/devices", { token: secret })).status,
        200,
        "the running server accepts it",
      );

      const listed = await keys("list", "--data-dir", server.dataDir);
      assert.equal(listed.code, 0);
      assert.match(listed.stdout, /operator\tcli-op/);
      assert.ok(!listed.stdout.includes(secret), "list never shows secrets");

      const revoked = await keys("revoke", "cli-op", "--data-dir", server.dataDir);
      assert.equal(revoked.code, 0, revoked.stderr);
      let refused: Response | null = null;
      await until(() => refused?.status === 401, "the revoked token to be refused", 5000, async () => {
        refused = await server.api("/api/devices", { token: secret });
      });
      assert.equal((await refused!.json()).error.code, "unauthorized");
    } finally {
      await server.close();
    }
  },
);

Deno.test("keys CLI refuses a bad scope and an unknown key with a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const badScope = await keys("create", "--scope", "root", "--name", "x", "--data-dir", dir);
    assert.equal(badScope.code, 2);
    assert.match(badScope.stderr, /--scope must be device, operator or enroll/);
    const created = await keys("create", "--scope", "device", "--name", "somebody", "--data-dir", dir);
    assert.equal(created.code, 0, created.stderr);
    const unknown = await keys("revoke", "nobody", "--data-dir", dir);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no live key/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("revoking a device key with the CLI drops that device's live connection", live, async () => {
  const server = await startTestServer();
  const created = await keys(
    "create",
    "--scope",
    "device",
    "--name",
    "lab-pcs",
    "--data-dir",
    server.dataDir,
  );
  const secret = created.stdout.trimEnd().split("\n").at(-1)!;
  const device = await RawDevice.open(server.wsUrl);
  try {
    const deviceId = (await device.handshake(secret, "lab-1")).ready.payload.deviceId;
    assert.equal((await keys("revoke", "lab-pcs", "--data-dir", server.dataDir)).code, 0);
    assert.equal((await device.next("ERROR", 5000)).payload.code, "key-revoked");
    assert.equal(await device.waitClosed(), 4006);
    assert.equal(server.gateway.device(deviceId)?.state, "offline");
  } finally {
    await device.close();
    await server.close();
  }
});

Deno.test(
  "keys CLI: list and revoke without a store say where they looked and create no data dir",
  async () => {
    const cwd = await Deno.makeTempDir({ prefix: "alien3-keys-cwd-" });
    const run = async (env: Record<string, string>, ...args: string[]) => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-write", "--allow-env", `${root}server/keys_cli.ts`, ...args],
        cwd,
        env,
      }).output();
      return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
    };
    const saved = Deno.env.get("ALIEN3_DATA_DIR");
    Deno.env.delete("ALIEN3_DATA_DIR");
    try {
      const listed = await run({}, "list");
      assert.equal(listed.code, 1);
      assert.match(
        listed.stderr,
        /Cannot list keys: no store at \.\/\.data\/alien3\.db \(the server's default/,
      );
      const revoked = await run({}, "revoke", "first-operator");
      assert.equal(revoked.code, 1);
      assert.match(revoked.stderr, /no store at \.\/\.data\/alien3\.db/);
      const fromEnv = await run({ ALIEN3_DATA_DIR: `${cwd}/elsewhere` }, "list");
      assert.equal(fromEnv.code, 1);
      assert.ok(fromEnv.stderr.includes(`no store at ${cwd}/elsewhere/alien3.db (from ALIEN3_DATA_DIR)`));
      assert.deepEqual([...Deno.readDirSync(cwd)], [], "nothing was created");
    } finally {
      if (saved !== undefined) Deno.env.set("ALIEN3_DATA_DIR", saved);
      await Deno.remove(cwd, { recursive: true });
    }
  },
);
