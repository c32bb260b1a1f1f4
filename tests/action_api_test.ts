import assert from "node:assert/strict";
import { encodeStreamFrame } from "../shared/protocol/mod.ts";
import { RawDevice } from "./helpers/raw_device.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "operator action API: an action reaches the device and its RESULT comes back as JSON",
  live,
  async (t) => {
    const server = await startTestServer();
    const device = await RawDevice.open(server.wsUrl);
    try {
      const deviceId = (await device.handshake(server.deviceKey, "remote")).ready.payload.deviceId;
      const post = (body: unknown) =>
        server.api(`/api/devices/${deviceId}/actions`, { method: "POST", body: JSON.stringify(body) });

      await t.step("a click succeeds with the device's action id and timings", async () => {
        const pending = post({ type: "click", x: 10, y: 20, button: "right", double: true });
        const click = await device.next("ACTION_CLICK");
        assert.deepEqual([click.payload.x, click.payload.y, click.payload.button, click.payload.double], [
          10,
          20,
          "right",
          true,
        ]);
        const timings = { receivedAtMs: 1, startedAtMs: 2, endedAtMs: 3 };
        device.sendReliable("RESULT", {
          actionId: click.payload.actionId,
          ok: true,
          output: { clicked: true },
          timings,
        });
        const response = await pending;
        assert.equal(response.status, 200);
        const body = await response.json();
        assert.equal(body.actionId, click.payload.actionId);
        assert.deepEqual(body.output, { clicked: true });
        assert.deepEqual(body.timings, timings);
      });
      await t.step("the device's error becomes a 4xx with the error contract", async () => {
        const pending = post({ type: "move", x: 99999, y: 1 });
        const move = await device.next("ACTION_MOVE");
        const error = {
          code: "out-of-bounds" as const,
          message: "Cannot execute action: coordinates are outside the screen: 99999,1",
        };
        device.sendReliable("RESULT", { actionId: move.payload.actionId, ok: false, error });
        const response = await pending;
        assert.equal(response.status, 422);
        assert.deepEqual(await response.json(), { error: { code: "out-of-bounds", message: error.message } });
      });
      await t.step("an invalid action is refused before it reaches the device", async () => {
        const response = await post({ type: "teleport", x: 1 });
        assert.equal(response.status, 400);
        assert.equal((await response.json()).error.code, "invalid-body");
        assert.equal(device.received.filter((m) => m.type.startsWith("ACTION_")).length, 0);
      });
      await t.step("GET /frame returns the device's image with its size", async () => {
        const pending = server.api(`/api/devices/${deviceId}/frame?format=png&scale=0.5`);
        const request = await device.next("REQUEST_FRAME");
        assert.deepEqual([request.payload.format, request.payload.scale], ["png", 0.5]);
        const image = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
        const meta = {
          actionId: request.payload.actionId,
          format: "png" as const,
          width: 640,
          height: 400,
          originalWidth: 1280,
          originalHeight: 800,
          capturedAtMs: Date.now(),
        };
        device.send("STREAM_FRAME", encodeStreamFrame(meta, image));
        device.sendReliable("RESULT", { actionId: request.payload.actionId, ok: true });
        const response = await pending;
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("content-type"), "image/png");
        assert.equal(response.headers.get("x-original-width"), "1280");
        assert.deepEqual(new Uint8Array(await response.arrayBuffer()), image);
      });
      await t.step("unknown and offline devices are clear errors", async () => {
        const unknown = await server.api(`/api/devices/dev_missing/actions`, {
          method: "POST",
          body: `{"type":"move","x":1,"y":1}`,
        });
        assert.equal(unknown.status, 404);
        assert.equal((await unknown.json()).error.code, "unknown-device");
        device.send("BYE", { reason: "leaving" });
        await device.waitClosed();
        const offline = await post({ type: "move", x: 1, y: 1 });
        assert.equal(offline.status, 409);
        assert.equal((await offline.json()).error.code, "device-offline");
      });
    } finally {
      await device.close();
      await server.close();
    }
  },
);
