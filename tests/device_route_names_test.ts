/**
 * Every device route (viewer routes included) takes a device's name as well as its id (an id wins over another device's equal
 * name), offline devices included; a `frame` action answers with its image: the bytes for
 * `Accept: image/*`, otherwise JSON with the frame's metadata and a `url` that serves the same bytes.
 */
import assert from "node:assert/strict";
import { encodeStreamFrame } from "../shared/protocol/mod.ts";
import { until } from "./helpers/gateway_harness.ts";
import { RawDevice } from "./helpers/raw_device.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** Answers the next REQUEST_FRAME with `image` (as PNG metadata) and a RESULT. */
async function answerFrame(device: RawDevice, image: Uint8Array): Promise<string> {
  const request = await device.next("REQUEST_FRAME");
  const actionId = request.payload.actionId;
  const meta = {
    actionId,
    format: request.payload.format,
    width: 4,
    height: 2,
    originalWidth: 8,
    originalHeight: 4,
    capturedAtMs: 1_700_000_000_000,
  };
  device.send("STREAM_FRAME", encodeStreamFrame(meta, image));
  device.sendReliable("RESULT", { actionId, ok: true, output: { width: 4, height: 2 } });
  return actionId;
}

Deno.test(
  "every device route takes a name: details, actions, a frame action's image, ping, frame, the kept frame; unknown names are unknown-device",
  live,
  async (t) => {
    const server = await startTestServer();
    const device = await RawDevice.open(server.wsUrl);
    try {
      const deviceId = (await device.handshake(server.deviceKey, "dev-b", {
        input: { mouse: true, keyboard: true },
      })).ready.payload.deviceId;
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        server.api(path, { method: "POST", body: JSON.stringify(body), headers });

      await t.step("GET /api/devices/dev-b", async () => {
        const response = await server.api("/api/devices/dev-b");
        assert.equal(response.status, 200);
        assert.equal((await response.json()).id, deviceId);
      });

      await t.step("POST /api/devices/dev-b/actions reaches the device", async () => {
        const pending = post("/api/devices/dev-b/actions", { type: "move", x: 3, y: 4 });
        const move = await device.next("ACTION_MOVE");
        assert.deepEqual([move.payload.x, move.payload.y], [3, 4]);
        device.sendReliable("RESULT", { actionId: move.payload.actionId, ok: true });
        const response = await pending;
        assert.equal(response.status, 200);
        assert.equal((await response.json()).actionId, move.payload.actionId);
      });

      await t.step("a frame action with Accept: image/* answers with the image itself", async () => {
        const image = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 7, 7]);
        const pending = post("/api/devices/dev-b/actions", { type: "frame", format: "png" }, {
          accept: "image/*",
        });
        const actionId = await answerFrame(device, image);
        const response = await pending;
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("content-type"), "image/png");
        assert.equal(response.headers.get("x-action-id"), actionId);
        assert.deepEqual(
          ["x-frame-width", "x-frame-height", "x-original-width", "x-original-height"].map((h) =>
            response.headers.get(h)
          ),
          ["4", "2", "8", "4"],
        );
        assert.deepEqual(new Uint8Array(await response.arrayBuffer()), image);
      });

      let frameUrl = "";
      const jsonImage = new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3, 4]);
      await t.step(
        "a frame action asked for JSON gives the metadata and a url that serves the bytes",
        async () => {
          const pending = post("/api/devices/dev-b/actions", { type: "frame" }, {
            accept: "application/json",
          });
          const actionId = await answerFrame(device, jsonImage);
          const response = await pending;
          assert.equal(response.status, 200);
          const body = await response.json();
          assert.equal(body.actionId, actionId);
          assert.deepEqual(body.frame, {
            format: "jpeg",
            width: 4,
            height: 2,
            originalWidth: 8,
            originalHeight: 4,
            capturedAtMs: 1_700_000_000_000,
            byteLength: jsonImage.byteLength,
            url: `/api/devices/${deviceId}/frames/${actionId}`,
          });
          frameUrl = body.frame.url;
          const image = await server.api(frameUrl);
          assert.equal(image.status, 200);
          assert.equal(image.headers.get("content-type"), "image/jpeg");
          assert.deepEqual(new Uint8Array(await image.arrayBuffer()), jsonImage);
          const byName = await server.api(`/api/devices/dev-b/frames/${actionId}`);
          assert.deepEqual(new Uint8Array(await byName.arrayBuffer()), jsonImage, "the kept frame by name");
        },
      );

      await t.step("no Accept header (curl, fetch: */*) answers JSON too", async () => {
        const pending = server.api("/api/devices/dev-b/actions", {
          method: "POST",
          body: JSON.stringify({ type: "frame" }),
        });
        await answerFrame(device, jsonImage);
        const body = await (await pending).json();
        assert.equal(body.frame.byteLength, jsonImage.byteLength);
      });

      await t.step("a kept frame of another action is unknown-frame", async () => {
        const response = await server.api("/api/devices/dev-b/frames/no-such-action");
        assert.equal(response.status, 404);
        assert.equal((await response.json()).error.code, "unknown-frame");
      });

      await t.step("POST /api/devices/dev-b/ping and GET /api/devices/dev-b/frame", async () => {
        const pinged = await post("/api/devices/dev-b/ping", {});
        assert.equal(pinged.status, 200);
        assert.equal((await pinged.json()).id, deviceId);
        const pending = server.api("/api/devices/dev-b/frame?format=png");
        const image = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 9]);
        await answerFrame(device, image);
        const frame = await pending;
        assert.equal(frame.status, 200);
        assert.deepEqual(new Uint8Array(await frame.arrayBuffer()), image);
      });

      await t.step("the viewer routes find dev-b by name", async () => {
        const closed = await server.api("/api/devices/dev-b/viewer/no-such-viewer", { method: "DELETE" });
        const error = (await closed.json()).error;
        assert.deepEqual([closed.status, error.code], [404, "not-found"]);
        assert.match(error.message, /no viewer no-such-viewer of dev-b/);
        // This raw device has no media peer: the refusal names it by id, so the name was resolved.
        const opened = (await (await post("/api/devices/dev-b/viewer", { sdp: "v=0" })).json()).error;
        assert.equal(opened.code, "device-offline");
        assert.match(opened.message, new RegExp(`no media peer: ${deviceId}$`));
      });

      await t.step("a name no device has is unknown-device on every route", async () => {
        const answers = await Promise.all([
          server.api("/api/devices/dev-z"),
          post("/api/devices/dev-z/actions", { type: "move", x: 1, y: 1 }),
          post("/api/devices/dev-z/ping", {}),
          server.api("/api/devices/dev-z/frame"),
          server.api("/api/devices/dev-z/frames/x"),
          post("/api/devices/dev-z/viewer", { sdp: "v=0" }),
          server.api("/api/devices/dev-z/viewer/x", { method: "DELETE" }),
        ]);
        for (const answer of answers) {
          assert.deepEqual([answer.status, (await answer.json()).error.code], [404, "unknown-device"]);
        }
      });

      await t.step(
        "an offline device is still found by name: device-offline, not unknown-device",
        async () => {
          device.send("BYE", { reason: "going away" });
          await device.close();
          await until(() => server.gateway.device("dev-b")?.state === "offline", "dev-b offline");
          const view = await server.api("/api/devices/dev-b");
          assert.equal((await view.json()).state, "offline");
          const ping = await post("/api/devices/dev-b/ping", {});
          assert.deepEqual([ping.status, (await ping.json()).error.code], [409, "device-offline"]);
          const action = await post("/api/devices/dev-b/actions", { type: "move", x: 1, y: 1 });
          assert.equal((await action.json()).error.code, "device-offline");
          const kept = await server.api(frameUrl);
          assert.equal(kept.status, 200, "a kept frame outlives the connection");
          assert.deepEqual(new Uint8Array(await kept.arrayBuffer()), jsonImage);
        },
      );
    } finally {
      await device.close();
      await server.close();
    }
  },
);

Deno.test("a device id wins over another device's equal name", live, async () => {
  const server = await startTestServer();
  const first = await RawDevice.open(server.wsUrl);
  const second = await RawDevice.open(server.wsUrl);
  try {
    const firstId = (await first.handshake(server.deviceKey, "first")).ready.payload.deviceId;
    // A second device whose name is the first one's id.
    const secondId = (await second.handshake(server.deviceKey, firstId)).ready.payload.deviceId;
    assert.notEqual(secondId, firstId);
    const view = await (await server.api(`/api/devices/${firstId}`)).json();
    assert.deepEqual([view.id, view.name], [firstId, "first"]);
    const pinged = await server.api(`/api/devices/${firstId}/ping`, { method: "POST" });
    assert.equal((await pinged.json()).id, firstId);
    const bySecondId = await (await server.api(`/api/devices/${secondId}`)).json();
    assert.equal(bySecondId.name, firstId, "the second device is reached by its own id");
  } finally {
    await first.close();
    await second.close();
    await server.close();
  }
});
