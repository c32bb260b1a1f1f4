/**
 * ICE restarts after a network blip, with real werift peers on both sides: a device whose peer could not
 * connect (every candidate pair refused) drops its WebSocket and resumes; the server then restarts ICE
 * with a new offer, which now connects, and frames move to the data channel.
 */
import assert from "node:assert/strict";
import { startMediaDevice } from "./helpers/media_device.ts";
import { startTestServer, untilDevice } from "./helpers/server.ts";

interface MediaJson {
  id: string;
  state: string;
  media: { path: string | null; peer: string | null };
}

Deno.test("after a network blip the server restarts ICE and frames move to the data channel", async () => {
  let allow = false;
  const server = await startTestServer(["--resume-grace-ms", "5000"], undefined, {
    media: {
      iceFilterCandidatePair: () => allow,
      iceFilterStunResponse: () => allow,
      connectTimeoutMs: 1500,
    },
  });
  const device = await startMediaDevice(server.wsUrl, server.deviceKey, "blip", {
    image: new Uint8Array(50_000).fill(0xab),
    width: 640,
    height: 400,
  });
  const offline: string[] = [];
  const unsubscribe = server.gateway.events.on("device-offline", (d) => offline.push(d.name));
  try {
    const failed = await untilDevice<MediaJson>(server, "blip", (d) => d.media.peer === "failed");
    assert.equal(failed.media.path, "wss");
    const before = await server.dispatcher.execute(failed.id, {
      type: "frame",
      format: "jpeg",
      scale: 1,
      quality: 80,
    });
    assert.ok(before.ok && (before.output as { path: string }).path === "wss");

    // The network comes back; the device's socket drops and it resumes its session.
    allow = true;
    device.dropSocket();
    const connected = await untilDevice<MediaJson>(
      server,
      "blip",
      (d) => d.media.peer === "connected" && d.media.path === "webrtc",
    );
    assert.equal(connected.id, failed.id);
    assert.equal(connected.state, "ready");
    const after = await server.dispatcher.execute(connected.id, {
      type: "frame",
      format: "jpeg",
      scale: 1,
      quality: 80,
    });
    assert.ok(after.ok, JSON.stringify(after));
    assert.equal((after.output as { path: string }).path, "webrtc");
    assert.equal(after.frame?.image.byteLength, 50_000);
    assert.deepEqual(offline, [], "the blip never took the device offline");
  } finally {
    unsubscribe();
    await device.close();
    await server.close();
  }
});
