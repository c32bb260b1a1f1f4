/** The keys CLI and device identity: enrollment keys, device-bound keys, revoking one enrolled device by name. */
import assert from "node:assert/strict";
import { RawDevice } from "./helpers/raw_device.ts";
import { startTestServer } from "./helpers/server.ts";
import { runTask } from "./helpers/task.ts";

const live = { sanitizeResources: false, sanitizeOps: false };
const keys = (...args: string[]) => runTask("keys", ...args);

const lastLine = (text: string) => text.trimEnd().split("\n").at(-1)!;

Deno.test(
  "keys CLI makes enrollment and device-bound keys, lists bindings, and revokes one enrolled device by its name",
  live,
  async () => {
    const server = await startTestServer();
    const dir = ["--data-dir", server.dataDir];
    const devices = [await RawDevice.open(server.wsUrl), await RawDevice.open(server.wsUrl)];
    try {
      const enroll = await keys("create", "--scope", "enroll", "--name", "lab", ...dir);
      assert.equal(enroll.code, 0, enroll.stderr);
      assert.match(lastLine(enroll.stdout), /^a3e_[A-Za-z0-9_-]{43}$/);
      const bound = await keys(
        "create",
        "--scope",
        "device",
        "--name",
        "kiosk key",
        "--device",
        "kiosk",
        ...dir,
      );
      assert.equal(bound.code, 0, bound.stderr);
      assert.match(bound.stdout, /Created device key key_\S+ \(kiosk key, bound to device kiosk\)/);

      const [one, two] = devices;
      const readyOne = (await one.handshake(lastLine(enroll.stdout), "lab-1")).ready.payload;
      const readyTwo = (await two.handshake(lastLine(enroll.stdout), "lab-2")).ready.payload;
      assert.ok(readyOne.credential && readyTwo.credential);

      const listed = await keys("list", ...dir);
      assert.match(listed.stdout, /^ID\tSCOPE\tNAME\tCREATED\tREVOKED\tDEVICE$/m);
      assert.match(listed.stdout, /\tenroll\tlab\t\S+\t-\t-$/m);
      assert.match(listed.stdout, /\tdevice\tkiosk key\t\S+\t-\tkiosk$/m);
      assert.match(listed.stdout, /\tdevice\tlab-1\t\S+\t-\tlab-1 \(enrolled\)$/m);
      assert.ok(!listed.stdout.includes(readyOne.credential.secret), "never a secret");

      const revoked = await keys("revoke", "lab-1", ...dir);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal((await one.next("ERROR", 5000)).payload.code, "key-revoked");
      assert.equal(await one.waitClosed(), 4006);
      assert.equal(server.gateway.device(readyTwo.deviceId)?.state, "ready");
      assert.notEqual(await server.gateway.ping(readyTwo.deviceId, 2000), null, "lab-2 is untouched");

      const wrong = await keys("create", "--scope", "operator", "--name", "x", "--device", "kiosk", ...dir);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /--device binds a device key: use --scope device/);
    } finally {
      for (const device of devices) await device.close();
      await server.close();
    }
  },
);
