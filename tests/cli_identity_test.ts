/** The operator CLI and device identity: enrollment and bound keys, `forget` of an offline device. */
import assert from "node:assert/strict";
import { a3Env, runA3 } from "./helpers/a3.ts";
import { until } from "./helpers/gateway_harness.ts";
import { RawDevice } from "./helpers/raw_device.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "a3 creates enrollment and device-bound keys, lists bindings, and forgets an offline device",
  live,
  async (t) => {
    const server = await startTestServer();
    const work = await Deno.makeTempDir({ prefix: "alien3-a3-ident-" });
    const env = a3Env(`${work}/config`, { ALIEN3_SERVER: server.url, ALIEN3_TOKEN: server.operatorToken });
    const device = await RawDevice.open(server.wsUrl);
    try {
      await t.step("keys create --scope enroll and --device; keys list shows the binding", async () => {
        const enroll = await runA3(["keys", "create", "--scope", "enroll", "--name", "lab"], env);
        assert.equal(enroll.code, 0, enroll.stderr);
        assert.match(enroll.stdout.trimEnd().split("\n").at(-1)!, /^a3e_[A-Za-z0-9_-]{43}$/);
        const bound = await runA3(
          ["keys", "create", "--scope", "device", "--name", "kiosk-key", "--device", "kiosk"],
          env,
        );
        assert.equal(bound.code, 0, bound.stderr);
        assert.match(bound.stdout, /^Created device key key_\S+ \(kiosk-key, bound to device kiosk\)\.$/m);
        const listed = await runA3(["keys", "list"], env);
        assert.match(listed.stdout, /^ID\s+SCOPE\s+NAME\s+CREATED\s+REVOKED\s+DEVICE$/m);
        assert.match(listed.stdout, /^key_\S+\s+enroll\s+lab\s+\S+\s+-\s+-$/m);
        assert.match(listed.stdout, /^key_\S+\s+device\s+kiosk-key\s+\S+\s+-\s+kiosk$/m);
        const wrong = await runA3(["keys", "create", "--scope", "root", "--name", "x"], env);
        assert.equal(wrong.code, 2);
        assert.match(wrong.stderr, /--scope must be device, operator or enroll/);
      });

      await t.step("forget refuses a connected device and forgets it once offline", async () => {
        const { ready } = await device.handshake(server.deviceKey, "gone-box");
        const online = await runA3(["forget", "gone-box"], env);
        assert.equal(online.code, 1);
        assert.match(online.stderr, /Cannot forget device: it is connected: gone-box is ready/);
        device.send("BYE", { reason: "leaving" });
        await until(() => server.gateway.device("gone-box")?.state === "offline", "gone-box offline");
        const forgotten = await runA3(["forget", "gone-box"], env);
        assert.equal(forgotten.code, 0, forgotten.stderr);
        assert.equal(forgotten.stdout, `Forgot device gone-box (${ready.payload.deviceId}).\n`);
        assert.equal(server.gateway.device("gone-box"), undefined);
        const again = await runA3(["forget", "gone-box"], env);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /Cannot find device gone-box/);
      });
    } finally {
      await device.close();
      await server.close();
      await Deno.remove(work, { recursive: true });
    }
  },
);
