import assert from "node:assert/strict";
import { sequentialIds } from "../../shared/ids.ts";
import {
  encodeStreamFrame,
  failure,
  FailureError,
  type FrameMeta,
  type StreamFrame,
} from "../../shared/protocol/mod.ts";
import { fakeClock } from "../../shared/testing/fake_clock.ts";
import { startGateway } from "../../tests/helpers/gateway_harness.ts";
import { ActionDispatcher } from "../gateway/action_dispatcher.ts";
import { FrameStore } from "./frame_store.ts";

function frame(actionId: string | undefined, bytes = 1000): StreamFrame {
  const meta: FrameMeta = {
    actionId,
    format: "jpeg",
    width: 10,
    height: 10,
    originalWidth: 10,
    originalHeight: 10,
    capturedAtMs: 1,
  };
  return { meta, image: new Uint8Array(bytes).fill(7) };
}

Deno.test("FrameStore keeps each device's latest frame with its path, and rates over the last 5 s", () => {
  const clock = fakeClock();
  const store = new FrameStore({ clock });
  assert.deepEqual(store.stats("d1"), { fps: 0, bytesPerSecond: 0, lastFrameAgeMs: null });
  for (let i = 0; i < 10; i++) {
    store.put("d1", frame(undefined, 5000), "webrtc");
    clock.tick(500);
  }
  assert.equal(store.latest("d1")?.path, "webrtc");
  assert.deepEqual(store.stats("d1"), { fps: 2, bytesPerSecond: 10_000, lastFrameAgeMs: 500 });
  store.put("d1", frame(undefined, 100), "wss");
  assert.equal(store.latest("d1")?.path, "wss");
  clock.tick(6000);
  assert.deepEqual(store.stats("d1"), { fps: 0, bytesPerSecond: 0, lastFrameAgeMs: 6000 });
  assert.equal(store.latest("d2"), null);
});

Deno.test("getFrame() serves the stored frame unless asked for a fresh one or it is older than allowed", async () => {
  const clock = fakeClock();
  const requests: string[] = [];
  const store: FrameStore = new FrameStore({
    clock,
    request: (deviceId) => {
      requests.push(deviceId);
      const captured = frame("x", 42);
      store.put(deviceId, captured, "wss");
      return Promise.resolve({ ok: true as const, frame: captured });
    },
  });
  // Nothing stored: a capture is requested whatever `fresh` says.
  assert.equal((await store.getFrame("d1"))?.image.byteLength, 42);
  assert.equal(requests.length, 1);
  store.put("d1", frame(undefined, 10), "webrtc");
  assert.equal((await store.getFrame("d1"))?.image.byteLength, 10);
  assert.equal((await store.getFrame("d1", { fresh: 1000 }))?.image.byteLength, 10);
  assert.equal(requests.length, 1);
  clock.tick(1001);
  assert.equal((await store.getFrame("d1", { fresh: 1000 }))?.image.byteLength, 42);
  assert.equal((await store.getFrame("d1", { fresh: true }))?.image.byteLength, 42);
  assert.equal(requests.length, 3);
});

Deno.test("getFrame() throws the capture's failure: the Brain sees why there is no frame", async () => {
  const store = new FrameStore({
    clock: fakeClock(),
    request: () => Promise.resolve({ ok: false as const, error: failure("device-busy") }),
  });
  await assert.rejects(store.getFrame("d1", { fresh: true }), (error: unknown) => {
    assert.ok(error instanceof FailureError);
    assert.equal(error.failure.code, "device-busy");
    return true;
  });
});

async function dispatcherSetup(frameWaitMs = 5000) {
  const h = startGateway();
  const arrived: Array<{ path: string; bytes: number }> = [];
  const dispatcher = new ActionDispatcher({
    gateway: h.gateway,
    clock: h.clock,
    newId: sequentialIds("act"),
    frameWaitMs,
    onFrame: (_deviceId, frame, path) => arrived.push({ path, bytes: frame.image.byteLength }),
  });
  const device = h.device();
  const deviceId = (await device.handshake(h.deviceKey.secret, "cam")).ready.payload.deviceId;
  const close = async () => {
    dispatcher.close();
    await device.close();
    await h.close();
  };
  return { h, dispatcher, device, deviceId, arrived, close };
}

const frameAction = { type: "frame", format: "jpeg", scale: 1, quality: 80 } as const;

Deno.test("a RESULT that says its frame went by WebRTC waits for the frame from the data channel", async () => {
  const s = await dispatcherSetup();
  try {
    const outcome = s.dispatcher.execute(s.deviceId, frameAction);
    const request = await s.device.next("REQUEST_FRAME");
    const actionId = request.payload.actionId;
    s.device.sendReliable("RESULT", { actionId, ok: true, output: { path: "webrtc" } });
    // The RESULT is in; the outcome waits until the frame arrives by the other path.
    await s.h.clock.tickAsync(100);
    assert.equal(s.dispatcher.pendingCount, 1);
    s.dispatcher.frameArrived(s.deviceId, frame(actionId, 321), "webrtc");
    const result = await outcome;
    assert.ok(result.ok);
    assert.equal(result.frame?.image.byteLength, 321);
    assert.deepEqual(s.arrived, [{ path: "webrtc", bytes: 321 }]);
  } finally {
    await s.close();
  }
});

Deno.test("a WebRTC frame that never comes settles the action without a frame after frameWaitMs", async () => {
  const s = await dispatcherSetup(2000);
  try {
    const outcome = s.dispatcher.execute(s.deviceId, frameAction);
    const request = await s.device.next("REQUEST_FRAME");
    s.device.sendReliable("RESULT", {
      actionId: request.payload.actionId,
      ok: true,
      output: { path: "webrtc" },
    });
    await s.h.clock.tickAsync(1999);
    assert.equal(s.dispatcher.pendingCount, 1);
    await s.h.clock.tickAsync(2);
    const result = await outcome;
    assert.ok(result.ok);
    assert.equal(result.frame, undefined);
  } finally {
    await s.close();
  }
});

Deno.test("STREAM_FRAME and the data channel reach the same input: frames of other devices' actions are not attached", async () => {
  const s = await dispatcherSetup();
  try {
    const outcome = s.dispatcher.execute(s.deviceId, frameAction);
    const request = await s.device.next("REQUEST_FRAME");
    const actionId = request.payload.actionId;
    // A frame naming this action, from another device id, is stored for that device but not attached.
    s.dispatcher.frameArrived("someone-else", frame(actionId, 5), "webrtc");
    const f = frame(actionId, 77);
    s.device.send("STREAM_FRAME", encodeStreamFrame(f.meta, f.image));
    s.device.sendReliable("RESULT", { actionId, ok: true, output: { path: "wss" } });
    const result = await outcome;
    assert.ok(result.ok);
    assert.equal(result.frame?.image.byteLength, 77);
    assert.deepEqual(s.arrived, [{ path: "webrtc", bytes: 5 }, { path: "wss", bytes: 77 }]);
  } finally {
    await s.close();
  }
});
