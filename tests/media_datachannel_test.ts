/**
 * The Deno client's media path for real: the client process with `--webrtc` on a real X display (Xvnc,
 * 1280x800), its werift peer against the server's, captures through the Node helper. Frames must arrive
 * intact on the data channel, and by STREAM_FRAME when WebRTC cannot connect.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import sharp from "sharp";
import { startClient } from "./helpers/client_process.ts";
import { startTestServer, type TestServer, untilDevice } from "./helpers/server.ts";
import { ROOT_COLOUR, startXServer } from "./helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

interface MediaJson {
  id: string;
  state: string;
  capabilities: { media: { capture: boolean; webrtc: boolean } };
  media: { path: string | null; peer: string | null; fps: number; bytesPerSecond: number };
}

/** Requests a 1280x800 JPEG and checks it against the SHA-256 the device computed and the X root colour. */
async function checkedFrame(server: TestServer, deviceId: string, path: "webrtc" | "wss"): Promise<void> {
  const outcome = await server.dispatcher.execute(deviceId, {
    type: "frame",
    format: "jpeg",
    scale: 1,
    quality: 80,
  });
  assert.ok(outcome.ok, JSON.stringify(outcome));
  const output = outcome.output as {
    path: string;
    sha256: string;
    bytes: number;
    width: number;
    height: number;
  };
  assert.equal(output.path, path);
  const image = outcome.frame!.image;
  assert.equal(image.byteLength, output.bytes);
  assert.equal(createHash("sha256").update(image).digest("hex"), output.sha256);
  assert.deepEqual([outcome.frame!.meta.width, outcome.frame!.meta.height], [1280, 800]);
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [1280, 800]);
  const centre = (400 * 1280 + 640) * info.channels;
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(data[centre + i] - ROOT_COLOUR.rgb[i]) < 12, `channel ${i}`);
}

Deno.test(
  "a Deno client with --webrtc sends 1280x800 frames on the data channel, intact by their SHA-256",
  live,
  async () => {
    const x = await startXServer();
    const server = await startTestServer();
    const client = await startClient(server.wsUrl, server.deviceKey, "rtc-box", {
      env: { DISPLAY: x.display },
      extraArgs: ["--webrtc"],
    });
    try {
      const device = await untilDevice<MediaJson>(
        server,
        "rtc-box",
        (d) => d.media.path === "webrtc",
        30_000,
      );
      assert.deepEqual(device.capabilities.media, { capture: true, webrtc: true });
      assert.equal(device.media.peer, "connected");
      for (let i = 0; i < 5; i++) await checkedFrame(server, device.id, "webrtc");
      const after = await untilDevice<MediaJson>(server, "rtc-box", (d) => d.media.fps > 0, 30_000);
      assert.equal(after.media.path, "webrtc");
      assert.ok(after.media.bytesPerSecond > 0);
    } finally {
      await client.stop();
      await server.close();
      await x.stop();
    }
  },
);

Deno.test(
  "when WebRTC cannot connect, frames arrive by STREAM_FRAME and the device reports the wss path",
  live,
  async () => {
    const x = await startXServer();
    // No candidate pair checked and no check answered by the server: the peers never connect.
    const server = await startTestServer([], undefined, {
      media: {
        iceFilterCandidatePair: () => false,
        iceFilterStunResponse: () => false,
        connectTimeoutMs: 2000,
      },
    });
    const client = await startClient(server.wsUrl, server.deviceKey, "no-rtc-box", {
      env: { DISPLAY: x.display },
      extraArgs: ["--webrtc"],
    });
    try {
      const device = await untilDevice<MediaJson>(
        server,
        "no-rtc-box",
        (d) => d.media.peer === "failed",
        30_000,
      );
      assert.equal(device.capabilities.media.webrtc, true);
      assert.equal(device.media.path, "wss");
      for (let i = 0; i < 3; i++) await checkedFrame(server, device.id, "wss");
      const after = await untilDevice<MediaJson>(server, "no-rtc-box", (d) => d.media.fps > 0, 30_000);
      assert.equal(after.media.path, "wss");
    } finally {
      await client.stop();
      await server.close();
      await x.stop();
    }
  },
);
